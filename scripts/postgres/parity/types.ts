// The shape of a parity run's result. Written to reports/parity-latest.json and read by the
// cutover engine's preflight, so keep it stable: add fields, never rename them.

/** A row key as the text of each key column, in key order: { id: "42" } or { tenant: "a", id: "7" }. */
export type RowKey = Record<string, string>;

export interface ColumnChange {
  column: string;
  /** Text of the value on each side, cut to 200 characters; null is SQL NULL. */
  blue: string | null;
  green: string | null;
  /**
   * Present when the two values print the same to a reader (NFC vs NFD, a zero-width space, a
   * no-break space, equal text with a difference beyond the first 200 characters): the first
   * differing byte of their UTF-8 text (null when the shown text is equal), and each side escaped.
   */
  invisible?: { firstDifferentByte: number | null; blueEscaped: string | null; greenEscaped: string | null };
}

export interface DuplicateKeys {
  /** Keys found more than once. */
  count: number;
  /** Up to --limit of them, each with its number of rows. */
  keys: Array<{ key: RowKey; rows: number }>;
}

export interface ChangedRow {
  key: RowKey;
  columns: ColumnChange[];
}

export interface KeyList {
  /** Every difference of this kind that was found (at least this many when `truncated`). */
  count: number;
  /** Up to --limit keys. */
  keys: RowKey[];
}

export type TableStatus = "identical" | "different";

export interface TableResult {
  /** schema.table, unquoted (a part holding a dot is quoted: `a."b.c"`). */
  table: string;
  /** The table's schema and name, exactly. */
  schema?: string;
  name?: string;
  status: TableStatus;
  /** Key columns the rows were matched by; null when the table has no usable primary key. */
  key: string[] | null;
  /** True when there is no primary key: only count and full checksum were compared. */
  noPrimaryKey: boolean;
  comparedColumns: string[];
  blueRows: number;
  greenRows: number;
  missingOnGreen: KeyList;
  extraOnGreen: KeyList;
  changed: { count: number; rows: ChangedRow[] };
  /**
   * Keys held by more than one row on a side (possible when that side lacks the primary key the
   * rows are matched by), with how many rows hold each. Absent when there are none.
   */
  duplicateKeys?: { blue: DuplicateKeys; green: DuplicateKeys };
  /** "materialized view" for a materialized view (contents hashed like a table's); absent for tables. */
  relationKind?: "materialized view";
  /** The listing stopped at --limit; counts are lower bounds. */
  truncated: boolean;
  notes: string[];
  /** Equality rules (typeRules.ts) that applied to this table's compared columns, with the columns. */
  equalityRules?: Array<{ rule: string; columns: string[] }>;
}

export type SchemaDifferenceKind =
  | "table-only-on-blue"
  | "table-only-on-green"
  | "column-only-on-blue"
  | "column-only-on-green"
  | "column-type"
  | "column-nullability"
  | "primary-key"
  | "unique-constraint-only-on-blue"
  | "unique-constraint-only-on-green"
  | "index-only-on-blue"
  | "index-only-on-green"
  | "sequence-only-on-blue"
  | "sequence-only-on-green"
  | "sequence-definition"
  | "column-collation"
  | "column-generated"
  | "column-default"
  | "column-identity"
  | "constraint-only-on-blue"
  | "constraint-only-on-green"
  | "enum-only-on-blue"
  | "enum-only-on-green"
  | "enum-labels"
  | "view-only-on-blue"
  | "view-only-on-green"
  | "view-definition"
  | "materialized-view-not-populated"
  | "function-only-on-blue"
  | "function-only-on-green"
  | "function-definition"
  | "trigger-only-on-blue"
  | "trigger-only-on-green"
  | "trigger-definition"
  | "trigger-enabled"
  | "domain-only-on-blue"
  | "domain-only-on-green"
  | "domain-definition"
  | "composite-type-only-on-blue"
  | "composite-type-only-on-green"
  | "composite-type-definition"
  | "table-persistence"
  | "row-security"
  | "policy-only-on-blue"
  | "policy-only-on-green"
  | "policy-definition"
  | "index-validity"
  | "replica-identity"
  | "extension-only-on-blue"
  | "extension-only-on-green"
  | "extension-version"
  | "large-object-only-on-blue"
  | "large-object-only-on-green"
  | "large-object-content"
  | "large-object-owner"
  | "large-object-privileges"
  /** Only in privilegeWarnings, unless --strict-privileges moves them to schemaDifferences. */
  | "privileges";

export interface SchemaDifference {
  kind: SchemaDifferenceKind;
  /** schema.table (or schema.sequence, schema.enum, schema.view, schema.function(args)). */
  object: string;
  column?: string;
  /** The role a privileges difference is about. */
  role?: string;
  blue?: string;
  green?: string;
  message: string;
}

export interface SequenceResult {
  /** schema.sequence, unquoted. */
  sequence: string;
  /** schema.table.column the sequence feeds, when it is owned by one. */
  ownedBy: string | null;
  /** Last value handed out (or start - increment when never called); decimal text. */
  blueLastValue: string | null;
  greenLastValue: string | null;
  /** Largest (smallest for descending sequences) value of the owning column on green. */
  greenMaxKey: string | null;
  status: "ok" | "behind";
  message?: string;
}

export interface ParityProgress {
  phase: "connect" | "schema" | "hash" | "diff" | "sequences" | "done";
  tablesDone: number;
  tablesTotal: number;
  /** Rows hashed so far, both sides together. */
  rowsHashed: number;
  /** The table last finished, if any. */
  table?: string;
}

export interface ParityReport {
  kind: "parity";
  version: 1;
  identical: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Redacted connection targets: postgres://user:***@host:port/db */
  blue: { target: string; serverVersion: string };
  green: { target: string; serverVersion: string };
  /** "server": hash_record_extended in the database; "canonical": md5 of a canonical text form. */
  hashMode: "server" | "canonical";
  hashModeReason?: string;
  options: { include: string[]; exclude: string[]; limit: number; parallel: number; strictPrivileges?: boolean };
  schemaDifferences: SchemaDifference[];
  /**
   * Privileges on tables and sequences that differ for roles present on both sides: warnings,
   * not differences, unless --strict-privileges (then they are in schemaDifferences instead).
   */
  privilegeWarnings?: SchemaDifference[];
  /** Large objects on each side (compared per OID: owner, privileges, content hash) or why they were not. */
  largeObjects?: { blue: number; green: number; compared: boolean; note?: string };
  /** Every equality rule that applied in this run, with the rule's text (see docs/parity.md). */
  equalityRules?: Array<{ rule: string; text: string; tables: string[] }>;
  tables: TableResult[];
  sequences: SequenceResult[];
  totals: {
    tables: number;
    tablesIdentical: number;
    tablesDifferent: number;
    rowsHashed: number;
    missingOnGreen: number;
    extraOnGreen: number;
    changed: number;
    /** Keys held by more than one row on a side, both sides together. */
    duplicateKeys?: number;
    schemaDifferences: number;
    sequencesBehind: number;
  };
  /** One line for humans: "identical: 12 tables, 2,000,000 rows" or what differs. */
  summary: string;
}
