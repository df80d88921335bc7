// More blue/green rules, one statement at a time: data deleted or rewritten wholesale, privileges
// taken away, row-level security switched on, constraints blue relies on dropped, sequences
// restarted, tables made unlogged (no longer replicated), and the statements that hold an
// exclusive lock for as long as the table takes to read or rewrite. Each reads PostgreSQL's parse
// tree (statements.ts); changes to tables the same migration set created are never blue's concern.

import { relationName, type Node, type Statement } from "./statements.js";
import type { LintContext, RuleHit } from "./rules.js";

const RECIPES = {
  deleteAll:
    "expand: leave the rows (blue reads them); contract: delete them once no version reads them, in batches (DELETE … WHERE id BETWEEN …), or not at all.",
  backfill:
    "update in batches in separate migrations or a job (UPDATE … WHERE id BETWEEN x AND y), each short; or write new rows through a trigger and backfill old ones in batches.",
  revoke: "expand: grant what green needs, revoke nothing blue's role uses; contract: revoke once blue no longer runs.",
  rls: "expand: create the policies permissive enough for every role blue connects as, deploy green knowing them; contract (or a later release): ENABLE ROW LEVEL SECURITY once both versions are known to pass them.",
  dropConstraint:
    "expand: keep UNIQUE / PRIMARY KEY / EXCLUDE constraints (blue's ON CONFLICT and its reads rely on them); contract: drop them. A CHECK or FOREIGN KEY named *_check / *_fkey may go in expand.",
  sequence:
    "never restart a sequence blue draws keys from; to move it forward use setval() to a higher value; to renumber create a new sequence for green and switch in contract.",
  unlogged: "keep published tables LOGGED: UNLOGGED tables are not replicated (green loses every row) and are emptied after a crash.",
  longLock:
    "run it outside the cutover (a maintenance window), or use the online form: pg_repack instead of VACUUM FULL / CLUSTER, REINDEX … CONCURRENTLY, short lock_timeout; never LOCK TABLE in a migration.",
  index: "CREATE INDEX CONCURRENTLY (the migration then runs without a transaction: write it IF NOT EXISTS).",
  volatileDefault:
    "add the column without a default (or with a constant one), set the default for new rows with ALTER COLUMN … SET DEFAULT, backfill old rows in batches.",
  disableTrigger:
    "keep blue's triggers enabled; to skip a trigger for a backfill, make the trigger function skip those rows (a session setting it checks), or backfill in batches with it on.",
} as const;

const cmdsOf = (node: Node): Array<{ subtype?: string; name?: string; def?: unknown }> =>
  ((node.cmds as Array<{ AlterTableCmd?: Record<string, unknown> }> | undefined) ?? []).map((c) => (c.AlterTableCmd ?? {}) as never);

const defNames = (options: unknown): string[] =>
  ((options as Array<{ DefElem?: { defname?: string } }> | undefined) ?? []).map((o) => o.DefElem?.defname ?? "");

/** Functions whose default value differs per row: PostgreSQL must rewrite the table to add such a column. */
const VOLATILE = new Set([
  "random",
  "clock_timestamp",
  "timeofday",
  "gen_random_uuid",
  "uuid_generate_v1",
  "uuid_generate_v4",
  "uuidv4",
  "uuidv7",
  "nextval",
  "statement_timestamp",
]);

function volatileDefault(def: unknown): boolean {
  const cons = (
    (def as { ColumnDef?: { constraints?: Array<{ Constraint?: { contype?: string; raw_expr?: unknown } }> } } | undefined)?.ColumnDef?.constraints ?? []
  ).map((c) => c.Constraint ?? {});
  const calls = (node: unknown): string[] => {
    if (Array.isArray(node)) return node.flatMap(calls);
    if (!node || typeof node !== "object") return [];
    const f = (node as { FuncCall?: { funcname?: Array<{ String?: { sval?: string } }> } }).FuncCall;
    const own = f ? [f.funcname?.[f.funcname.length - 1]?.String?.sval ?? ""] : [];
    return [...own, ...Object.values(node).flatMap(calls)];
  };
  return cons.some((c) => c.contype === "CONSTR_DEFAULT" && calls(c.raw_expr).some((name) => VOLATILE.has(name)));
}

const fresh = (ctx: LintContext, rel: string) => ctx.createdTables.has(rel);

function deleteOrUpdate(s: Statement, ctx: LintContext): RuleHit[] {
  if (s.type !== "DeleteStmt" && s.type !== "UpdateStmt") return [];
  const rel = relationName(s.node.relation);
  if (s.node.whereClause || fresh(ctx, rel)) return [];
  if (s.type === "DeleteStmt") {
    return [{ rule: "delete-all-rows", message: `deletes every row of ${rel} (no WHERE): blue's data is gone, like TRUNCATE`, recipe: RECIPES.deleteAll }];
  }
  return [
    {
      rule: "unbatched-backfill",
      level: "hazard",
      message: `updates every row of ${rel} in one statement: every row locked until the migration commits (blue's writes to them wait), the table's size again in WAL for replication to carry`,
      recipe: RECIPES.backfill,
    },
  ];
}

function revoke(s: Statement, ctx: LintContext): RuleHit[] {
  if (s.type !== "GrantStmt" && s.type !== "GrantRoleStmt") return [];
  if (s.node.is_grant === true) return [];
  const grantees = (s.node.grantees ?? s.node.grantee_roles) as Array<{ RoleSpec?: { rolename?: string; roletype?: string } }> | undefined;
  const roles = (grantees ?? []).map((g) => g.RoleSpec?.rolename ?? (g.RoleSpec?.roletype === "ROLESPEC_PUBLIC" ? "PUBLIC" : "?"));
  const existing = roles.filter((r) => !ctx.createdRoles.has(r));
  if (existing.length === 0) return [];
  return [
    {
      rule: "revoke-privilege",
      message: `revokes from ${existing.join(", ")}: blue may connect as ${existing.length === 1 ? "that role" : "one of them"} and fail with "permission denied"`,
      recipe: RECIPES.revoke,
    },
  ];
}

function rowSecurity(s: Statement, ctx: LintContext): RuleHit[] {
  if (s.type === "CreatePolicyStmt") {
    const rel = relationName(s.node.table);
    if (fresh(ctx, rel)) return [];
    return [
      {
        rule: "row-level-security",
        message: `adds policy ${String(s.node.policy_name)} on ${rel}: once row-level security is on, rows blue's role does not pass vanish from its reads and its writes fail`,
        recipe: RECIPES.rls,
      },
    ];
  }
  if (s.type !== "AlterTableStmt") return [];
  const rel = relationName(s.node.relation);
  if (fresh(ctx, rel)) return [];
  return cmdsOf(s.node)
    .filter((c) => c.subtype === "AT_EnableRowSecurity" || c.subtype === "AT_ForceRowSecurity")
    .map(() => ({
      rule: "row-level-security",
      message: `enables row-level security on ${rel}: blue's role sees and writes only what a policy lets it (with no policy: nothing)`,
      recipe: RECIPES.rls,
    }));
}

/** PostgreSQL's default names for CHECK and FOREIGN KEY constraints: dropping those only relaxes. */
const RELAXING = /_(check|fkey)$/;

function dropConstraint(s: Statement, ctx: LintContext): RuleHit[] {
  if (s.type !== "AlterTableStmt") return [];
  const rel = relationName(s.node.relation);
  if (fresh(ctx, rel)) return [];
  const hits: RuleHit[] = [];
  for (const cmd of cmdsOf(s.node)) {
    if (cmd.subtype !== "AT_DropConstraint") continue;
    const name = cmd.name ?? "?";
    const kind = ctx.constraintKinds.get(name);
    if (kind ? kind === "check" || kind === "foreign key" : RELAXING.test(name)) continue;
    hits.push({
      rule: "drop-constraint",
      message: `drops constraint ${name} of ${rel}${kind ? ` (${kind})` : " (a UNIQUE, PRIMARY KEY or EXCLUDE constraint unless it is a CHECK or FOREIGN KEY)"}: blue's INSERT … ON CONFLICT on it fails, and duplicates blue never expected can appear`,
      recipe: RECIPES.dropConstraint,
    });
  }
  return hits;
}

function sequenceAndPersistence(s: Statement, ctx: LintContext): RuleHit[] {
  if (s.type === "AlterSeqStmt" && defNames(s.node.options).includes("restart")) {
    return [
      {
        rule: "sequence-restart",
        message: `restarts sequence ${relationName(s.node.sequence)}: blue's next INSERTs draw keys that already exist (duplicate key errors) or reuse ids`,
        recipe: RECIPES.sequence,
      },
    ];
  }
  if (s.type !== "AlterTableStmt") return [];
  const rel = relationName(s.node.relation);
  if (fresh(ctx, rel)) return [];
  return cmdsOf(s.node)
    .filter((c) => c.subtype === "AT_SetUnLogged")
    .map(() => ({
      rule: "set-unlogged",
      message: `makes ${rel} UNLOGGED: logical replication stops carrying it (paired: green misses every later write) and a crash empties it; the table is rewritten under an exclusive lock`,
      recipe: RECIPES.unlogged,
    }));
}

function longLocks(s: Statement, ctx: LintContext): RuleHit[] {
  const hazard = (rule: string, message: string, recipe: string = RECIPES.longLock): RuleHit => ({ rule, level: "hazard", message, recipe });
  switch (s.type) {
    case "VacuumStmt":
      if (defNames(s.node.options).includes("full"))
        return [hazard("vacuum-full", "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock: blue's reads and writes on it wait until it ends")];
      return [];
    case "ClusterStmt":
      return [
        hazard(
          "cluster-table",
          `CLUSTER ${relationName(s.node.relation)} rewrites the table under an ACCESS EXCLUSIVE lock: blue's reads and writes on it wait until it ends`,
        ),
      ];
    case "LockStmt":
      return [
        hazard(
          "lock-table",
          "LOCK TABLE holds its lock until the migration commits: blue's queries on those tables queue behind it (and everything queues behind them)",
        ),
      ];
    case "ReindexStmt":
      if (defNames(s.node.params).includes("concurrently")) return [];
      return [hazard("reindex-without-concurrently", "REINDEX without CONCURRENTLY blocks blue's writes (and reads using the index) until it ends")];
    case "IndexStmt": {
      const rel = relationName(s.node.relation);
      if (s.node.concurrent === true || fresh(ctx, rel)) return [];
      return [
        {
          ...hazard(
            "require-concurrent-index-creation",
            `builds index ${String(s.node.idxname ?? "")} on ${rel} without CONCURRENTLY: blue's writes to ${rel} wait until the whole table is indexed`.replace(
              "  ",
              " ",
            ),
            RECIPES.index,
          ),
          squawk: "require-concurrent-index-creation",
        },
      ];
    }
    case "AlterTableStmt": {
      const rel = relationName(s.node.relation);
      if (fresh(ctx, rel)) return [];
      const triggers = cmdsOf(s.node)
        .filter((c) => c.subtype === "AT_DisableTrig" || c.subtype === "AT_DisableTrigAll" || c.subtype === "AT_DisableTrigUser")
        .map(() =>
          hazard(
            "disable-trigger",
            `disables triggers on ${rel} (a SHARE ROW EXCLUSIVE lock held to the end of the migration); blue's writes meanwhile skip what those triggers do`,
            RECIPES.disableTrigger,
          ),
        );
      const rewrites = cmdsOf(s.node)
        .filter((c) => c.subtype === "AT_AddColumn" && volatileDefault(c.def))
        .map(() => ({
          ...hazard(
            "adding-field-with-default",
            `adds a column to ${rel} with a volatile default: every row is rewritten under an ACCESS EXCLUSIVE lock (blue waits for the whole table)`,
            RECIPES.volatileDefault,
          ),
          squawk: "adding-field-with-default",
        }));
      return [...triggers, ...rewrites];
    }
    default:
      return [];
  }
}

export const DATA_RULES = [deleteOrUpdate, revoke, rowSecurity, dropConstraint, sequenceAndPersistence, longLocks] as const;

export const DATA_RULE_NAMES = [
  "delete-all-rows",
  "unbatched-backfill",
  "revoke-privilege",
  "row-level-security",
  "drop-constraint",
  "sequence-restart",
  "set-unlogged",
  "vacuum-full",
  "cluster-table",
  "lock-table",
  "reindex-without-concurrently",
  "disable-trigger",
  "require-concurrent-index-creation",
  "adding-field-with-default",
] as const;
