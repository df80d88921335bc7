// Blue/green compatibility rules for expand migrations. While an expand migration runs, blue's
// version still serves traffic on the same schema (shared database) or on a replicated copy
// (paired), and it must keep working; and after a rollback blue runs on the expanded schema. A
// rule names what would break blue and the expand/contract recipe that reaches the same end
// safely. In the contract phase (after a verified cutover, no rollback to blue) these operations
// are allowed. Each rule reads PostgreSQL's own parse tree (statements.ts).

import { dottedName, relationName, type Node, type Statement } from "./statements.js";
import { DATA_RULES, DATA_RULE_NAMES } from "./dataRules.js";
import { catalogOnlyTypeChange, typeOf, type ColumnType } from "./columnTypes.js";

export interface RuleHit {
  rule: string;
  /** What breaks, about this statement. */
  message: string;
  /** How to do it in steps that keep blue working. */
  recipe: string;
  /** squawk's rule for the same thing, when it has one. */
  squawk?: string;
  /**
   * hazard: a warning in every phase (blue keeps working, but waits or pays); always: an error in
   * every phase (the file cannot apply as written). Default: an error in expand, allowed in contract.
   */
  level?: "hazard" | "always";
}

/** What the migration set itself created or declared, read in order. */
export interface LintContext {
  /** Tables created earlier in the set: changes to them cannot break blue, which never used them. */
  createdTables: Set<string>;
  /** Roles created earlier in the set. */
  createdRoles: Set<string>;
  /** Constraints added earlier in the set, by name: their kind (check, foreign key, unique, …). */
  constraintKinds: Map<string, string>;
  /** Column types ("table.column"): declared earlier in the set, or read from the live database. */
  columnTypes: Map<string, ColumnType>;
}

export function newLintContext(columnTypes: Map<string, ColumnType> = new Map()): LintContext {
  return { createdTables: new Set(), createdRoles: new Set(), constraintKinds: new Map(), columnTypes: new Map(columnTypes) };
}

const RECIPES = {
  dropColumn:
    "expand: stop reading and writing the column in green's code (deploy green without it); contract: drop it after the cutover is verified (migrations/contract/).",
  renameColumn:
    "expand: add the new column, write both (trigger or application), backfill; cut over to green reading the new one; contract: drop the old column.",
  renameTable: "expand: create the new table (or a view under the new name over the old one), write both, backfill; cut over; contract: drop the old name.",
  dropTable: "expand: stop using the table in green; contract: drop it after the cutover is verified.",
  changeType: "expand: add a column of the new type, write both and backfill in batches; cut over to green reading the new column; contract: drop the old one.",
  setNotNull:
    "expand: ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID, backfill, VALIDATE CONSTRAINT (no long lock); contract: SET NOT NULL (fast once a valid CHECK proves it) and drop the CHECK.",
  requiredColumn:
    "expand: add the column nullable or with a constant DEFAULT (blue's INSERTs do not name it); contract: SET NOT NULL / DROP DEFAULT once only green writes.",
  validatedConstraint:
    "expand: ADD CONSTRAINT … NOT VALID (checks new rows only, brief lock), then ALTER TABLE … VALIDATE CONSTRAINT … in a later migration (no write lock); for UNIQUE/PRIMARY KEY: CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX.",
  dropView: "expand: leave the view (or function) blue calls in place, create the new one under a new name; contract: drop the old one.",
  dropDefault: "expand: keep the default while blue inserts without the column; contract: drop it.",
  truncate: "not a schema change: delete data in a contract migration, or not at all, once no version reads it.",
  enumValue:
    "expand: ADD VALUE the new label and have green write it; contract: migrate the rows and stop using the old label (enum labels cannot be dropped; recreate the type if needed).",
  moveObject: "expand: create the object in the new schema (or a view there), write both; contract: drop the old one.",
  dropIndex: "expand: keep the index (blue's queries and ON CONFLICT may rely on it); contract: DROP INDEX CONCURRENTLY.",
  dropTrigger: "expand: keep the trigger blue's writes rely on; contract: drop it.",
  dropIdentity: "expand: keep the identity or generation blue's INSERTs rely on; contract: drop it.",
} as const;

type Rule = (s: Statement, ctx: LintContext) => RuleHit[];
/** One subcommand of an ALTER TABLE statement, as the parse tree holds it. */
type AlterTableCmd = { subtype?: string; name?: string; def?: Node };

const cmdsOf = (node: Node): AlterTableCmd[] =>
  ((node.cmds as Array<{ AlterTableCmd?: Record<string, unknown> }> | undefined) ?? []).map((c) => (c.AlterTableCmd ?? {}) as never);

const constraintsOf = (columnDef: Node | undefined): Array<Record<string, unknown>> =>
  (((columnDef?.ColumnDef as Node | undefined)?.constraints as Array<{ Constraint?: Record<string, unknown> }> | undefined) ?? []).map(
    (c) => c.Constraint ?? {},
  );

const DROP_OBJECTS: Record<string, { rule: string; what: string; recipe: string; squawk?: string }> = {
  OBJECT_TABLE: { rule: "drop-table", what: "table", recipe: RECIPES.dropTable, squawk: "ban-drop-table" },
  OBJECT_VIEW: { rule: "drop-view", what: "view", recipe: RECIPES.dropView },
  OBJECT_MATVIEW: { rule: "drop-view", what: "materialized view", recipe: RECIPES.dropView },
  OBJECT_FUNCTION: { rule: "drop-function", what: "function", recipe: RECIPES.dropView },
  OBJECT_PROCEDURE: { rule: "drop-function", what: "procedure", recipe: RECIPES.dropView },
  OBJECT_ROUTINE: { rule: "drop-function", what: "routine", recipe: RECIPES.dropView },
  OBJECT_SCHEMA: { rule: "drop-schema", what: "schema", recipe: RECIPES.dropTable },
  OBJECT_TYPE: { rule: "drop-type", what: "type", recipe: RECIPES.dropTable },
  OBJECT_DOMAIN: { rule: "drop-type", what: "domain", recipe: RECIPES.dropTable },
  OBJECT_SEQUENCE: { rule: "drop-sequence", what: "sequence", recipe: RECIPES.dropTable },
  OBJECT_INDEX: { rule: "drop-index", what: "index", recipe: RECIPES.dropIndex },
  OBJECT_TRIGGER: { rule: "drop-trigger", what: "trigger", recipe: RECIPES.dropTrigger },
};

function objectName(o: unknown): string {
  const n = o as { List?: { items?: unknown[] }; ObjectWithArgs?: { objname?: unknown[] }; String?: { sval?: string }; TypeName?: { names?: unknown[] } };
  if (n.List) return dottedName(n.List.items);
  if (n.ObjectWithArgs) return dottedName(n.ObjectWithArgs.objname);
  if (n.TypeName) return dottedName(n.TypeName.names);
  return n.String?.sval ?? "?";
}

const dropRule: Rule = (s, ctx) => {
  if (s.type !== "DropStmt") return [];
  const kind = DROP_OBJECTS[String(s.node.removeType)];
  if (!kind) return [];
  const names = ((s.node.objects as unknown[]) ?? []).map(objectName);
  const used = names.filter((n) => !(kind.rule === "drop-table" && ctx.createdTables.has(n)));
  if (used.length === 0) return [];
  return [
    {
      rule: kind.rule,
      message: `drops ${kind.what} ${used.join(", ")}, which blue may still use`,
      recipe: kind.recipe,
      ...(kind.squawk ? { squawk: kind.squawk } : {}),
    },
  ];
};

const renameRule: Rule = (s) => {
  if (s.type !== "RenameStmt") return [];
  const type = String(s.node.renameType);
  const rel = relationName(s.node.relation);
  if (type === "OBJECT_COLUMN") {
    return [
      {
        rule: "rename-column",
        message: `renames ${rel}.${String(s.node.subname)} to ${String(s.node.newname)}: blue still uses the old name`,
        recipe: RECIPES.renameColumn,
        squawk: "renaming-column",
      },
    ];
  }
  if (type === "OBJECT_TABLE" || type === "OBJECT_VIEW" || type === "OBJECT_MATVIEW") {
    return [
      {
        rule: "rename-table",
        message: `renames ${rel} to ${String(s.node.newname)}: blue still uses the old name`,
        recipe: RECIPES.renameTable,
        squawk: "renaming-table",
      },
    ];
  }
  if (type === "OBJECT_FUNCTION" || type === "OBJECT_PROCEDURE" || type === "OBJECT_SCHEMA" || type === "OBJECT_TYPE") {
    return [
      {
        rule: "rename-object",
        message: `renames ${type.replace("OBJECT_", "").toLowerCase()} ${objectName(s.node.object)} to ${String(s.node.newname)}: blue still uses the old name`,
        recipe: RECIPES.renameTable,
      },
    ];
  }
  return [];
};

/** What one ALTER TABLE subcommand on `rel` (a table blue uses) breaks for blue. */
type AlterTableCheck = (cmd: AlterTableCmd, rel: string, ctx: LintContext) => RuleHit[];

const dropColumnCheck: AlterTableCheck = (cmd, rel) => [
  {
    rule: "drop-column",
    message: `drops column ${rel}.${cmd.name ?? "?"}, which blue still reads or writes`,
    recipe: RECIPES.dropColumn,
    squawk: "ban-drop-column",
  },
];

/** A type change is allowed when it only touches the catalog (a proved widening). */
const columnTypeCheck: AlterTableCheck = (cmd, rel, ctx) => {
  const col = `${rel}.${cmd.name ?? "?"}`;
  const verdict = catalogOnlyTypeChange(ctx.columnTypes.get(col), cmd.def);
  if (verdict.catalogOnly) return [];
  return [
    {
      rule: "change-column-type",
      message: `changes the type of ${col}${verdict.why ? ` (${verdict.why})` : ""}: blue's reads, writes and casts may fail, and the table is rewritten under an exclusive lock`,
      recipe: RECIPES.changeType,
      squawk: "changing-column-type",
    },
  ];
};

const setNotNullCheck: AlterTableCheck = (cmd, rel) => [
  {
    rule: "set-not-null",
    message: `makes ${rel}.${cmd.name ?? "?"} NOT NULL: blue's INSERTs that leave it out fail, and the whole table is scanned under an exclusive lock`,
    recipe: RECIPES.setNotNull,
    squawk: "adding-not-nullable-field",
  },
];

/** ALTER COLUMN … SET DEFAULT carries a definition; DROP DEFAULT does not. */
const columnDefaultCheck: AlterTableCheck = (cmd, rel) =>
  cmd.def
    ? []
    : [
        {
          rule: "drop-column-default",
          message: `drops the default of ${rel}.${cmd.name ?? "?"}: blue's INSERTs that leave it out get NULL (or fail on NOT NULL)`,
          recipe: RECIPES.dropDefault,
        },
      ];

const dropIdentityCheck: AlterTableCheck = (cmd, rel) => [
  {
    rule: "drop-identity",
    message: `drops the ${cmd.subtype === "AT_DropIdentity" ? "identity" : "generation expression"} of ${rel}.${cmd.name ?? "?"}: blue's INSERTs rely on it`,
    recipe: RECIPES.dropIdentity,
  },
];

/** A new column blue's INSERTs must fill, or one whose constraints are validated over the existing rows. */
const addColumnCheck: AlterTableCheck = (cmd, rel) => {
  const hits: RuleHit[] = [];
  const cons = constraintsOf(cmd.def);
  const notNull = cons.some((c) => c.contype === "CONSTR_NOTNULL" || c.contype === "CONSTR_PRIMARY");
  const filled = cons.some((c) => c.contype === "CONSTR_DEFAULT" || c.contype === "CONSTR_IDENTITY" || c.contype === "CONSTR_GENERATED");
  const name = ((cmd.def?.ColumnDef as Node | undefined)?.colname as string | undefined) ?? "?";
  if (notNull && !filled) {
    hits.push({
      rule: "add-required-column",
      message: `adds ${rel}.${name} NOT NULL without a default: blue's INSERTs do not name it and fail`,
      recipe: RECIPES.requiredColumn,
      squawk: "adding-required-field",
    });
  }
  const validated = cons.filter(
    (c) => ["CONSTR_CHECK", "CONSTR_FOREIGN", "CONSTR_UNIQUE", "CONSTR_PRIMARY"].includes(String(c.contype)) && c.skip_validation !== true,
  );
  if (validated.some((c) => c.contype === "CONSTR_FOREIGN" || c.contype === "CONSTR_UNIQUE" || c.contype === "CONSTR_PRIMARY")) {
    hits.push({
      rule: "validated-constraint",
      message: `adds ${rel}.${name} with a validated ${validated.map((c) => String(c.contype).replace("CONSTR_", "").toLowerCase()).join("/")} constraint over the existing rows (long lock; blue's writes that break it fail)`,
      recipe: RECIPES.validatedConstraint,
      squawk: "constraint-missing-not-valid",
    });
  }
  return hits;
};

/** A constraint checked against every existing row (not NOT VALID, not USING INDEX). */
const addConstraintCheck: AlterTableCheck = (cmd, rel) => {
  const c = (cmd.def?.Constraint as Record<string, unknown> | undefined) ?? {};
  const type = String(c.contype);
  const usingIndex = typeof c.indexname === "string";
  const checked = ["CONSTR_CHECK", "CONSTR_FOREIGN", "CONSTR_UNIQUE", "CONSTR_PRIMARY", "CONSTR_EXCLUSION"].includes(type);
  if (!checked || c.skip_validation === true || usingIndex) return [];
  const what = type.replace("CONSTR_", "").toLowerCase().replace("foreign", "foreign key").replace("primary", "primary key");
  return [
    {
      rule: "validated-constraint",
      message:
        `adds ${what} constraint ${String(c.conname ?? "")} to ${rel} validated against every existing row: a long lock blocks blue's writes, and blue's writes that violate it fail`.replace(
          "  ",
          " ",
        ),
      recipe: RECIPES.validatedConstraint,
      squawk: type === "CONSTR_UNIQUE" ? "disallowed-unique-constraint" : "constraint-missing-not-valid",
    },
  ];
};

/** The ALTER TABLE subcommands that can break blue, by PostgreSQL's subtype; the others cannot. */
const ALTER_TABLE_CHECKS = new Map<string, AlterTableCheck>([
  ["AT_DropColumn", dropColumnCheck],
  ["AT_AlterColumnType", columnTypeCheck],
  ["AT_SetNotNull", setNotNullCheck],
  ["AT_ColumnDefault", columnDefaultCheck],
  ["AT_DropIdentity", dropIdentityCheck],
  ["AT_DropExpression", dropIdentityCheck],
  ["AT_AddColumn", addColumnCheck],
  ["AT_AddConstraint", addConstraintCheck],
]);

/** ALTER TABLE on a table blue uses (not one the set created): each subcommand checked in order. */
const alterTableRule: Rule = (s, ctx) => {
  if (s.type !== "AlterTableStmt") return [];
  const rel = relationName(s.node.relation);
  if (ctx.createdTables.has(rel)) return [];
  return cmdsOf(s.node).flatMap((cmd) => ALTER_TABLE_CHECKS.get(cmd.subtype ?? "")?.(cmd, rel, ctx) ?? []);
};

const truncateRule: Rule = (s) =>
  s.type === "TruncateStmt"
    ? [
        {
          rule: "truncate-table",
          message: `empties ${((s.node.relations as unknown[]) ?? []).map((r) => relationName((r as { RangeVar?: unknown }).RangeVar)).join(", ")}: blue's data is gone`,
          recipe: RECIPES.truncate,
        },
      ]
    : [];

const enumRule: Rule = (s) =>
  s.type === "AlterEnumStmt" && typeof s.node.oldVal === "string"
    ? [
        {
          rule: "rename-enum-value",
          message: `renames label '${s.node.oldVal}' of ${dottedName(s.node.typeName)}: blue still writes and compares the old label`,
          recipe: RECIPES.enumValue,
        },
      ]
    : [];

const moveRule: Rule = (s, ctx) => {
  if (s.type !== "AlterObjectSchemaStmt") return [];
  const rel = s.node.relation ? relationName(s.node.relation) : objectName(s.node.object);
  if (ctx.createdTables.has(rel)) return [];
  return [{ rule: "move-object", message: `moves ${rel} to schema ${String(s.node.newschema)}: blue still uses the old name`, recipe: RECIPES.moveObject }];
};

/** Every rule, in the order their findings are printed. */
export const RULES: readonly Rule[] = [dropRule, renameRule, alterTableRule, truncateRule, enumRule, moveRule, ...DATA_RULES];

/** Rule names, for documentation and tests. */
export const RULE_NAMES = [
  "drop-table",
  "drop-column",
  "rename-column",
  "rename-table",
  "rename-object",
  "change-column-type",
  "set-not-null",
  "add-required-column",
  "validated-constraint",
  "drop-view",
  "drop-function",
  "drop-schema",
  "drop-type",
  "drop-sequence",
  "drop-index",
  "drop-trigger",
  "drop-column-default",
  "drop-identity",
  "truncate-table",
  "rename-enum-value",
  "move-object",
  ...DATA_RULE_NAMES,
] as const;

/** Tables a statement creates (CREATE TABLE [AS]), so later statements on them are not checked against blue. */
export function createdBy(s: Statement): string[] {
  if (s.type === "CreateStmt") return [relationName(s.node.relation)];
  if (s.type === "CreateTableAsStmt") return [relationName((s.node.into as { rel?: unknown } | undefined)?.rel)];
  return [];
}

export function checkStatement(s: Statement, ctx: LintContext): RuleHit[] {
  return RULES.flatMap((rule) => rule(s, ctx));
}

const CONSTRAINT_KINDS: Record<string, string> = {
  CONSTR_CHECK: "check",
  CONSTR_FOREIGN: "foreign key",
  CONSTR_UNIQUE: "unique",
  CONSTR_PRIMARY: "primary key",
  CONSTR_EXCLUSION: "exclusion",
};

/** Learn from a statement once it is checked: tables and roles it creates, constraints and column types it declares. */
export function track(s: Statement, ctx: LintContext): void {
  for (const t of createdBy(s)) ctx.createdTables.add(t);
  if (s.type === "CreateRoleStmt" && typeof s.node.role === "string") ctx.createdRoles.add(s.node.role);
  const columns = (rel: string, defs: unknown) => {
    for (const d of (defs as Array<{ ColumnDef?: Node; Constraint?: Record<string, unknown> }> | undefined) ?? []) {
      if (d.ColumnDef?.colname) ctx.columnTypes.set(`${rel}.${String(d.ColumnDef.colname)}`, typeOf(d.ColumnDef.typeName));
      if (d.Constraint?.conname) ctx.constraintKinds.set(String(d.Constraint.conname), CONSTRAINT_KINDS[String(d.Constraint.contype)] ?? "other");
    }
  };
  if (s.type === "CreateStmt") columns(relationName(s.node.relation), s.node.tableElts);
  if (s.type === "AlterTableStmt") {
    const rel = relationName(s.node.relation);
    for (const cmd of cmdsOf(s.node)) {
      if (cmd.subtype === "AT_AddColumn" || cmd.subtype === "AT_AddConstraint" || cmd.subtype === "AT_AlterColumnType") {
        if (cmd.subtype === "AT_AlterColumnType" && cmd.def?.ColumnDef)
          ctx.columnTypes.set(`${rel}.${cmd.name ?? "?"}`, typeOf((cmd.def.ColumnDef as Node).typeName));
        else columns(rel, [cmd.def]);
      }
    }
  }
}
