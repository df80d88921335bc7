// Identifier and literal quoting, and the names sync gives its publication, subscription and slot.

/** Quote an identifier the way PostgreSQL's quote_ident does (always quoted). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A schema-qualified table name, quoted. */
export function qualified(table: TableRef): string {
  return `${ident(table.schema)}.${ident(table.name)}`;
}

/** Quote a string literal (standard_conforming_strings on, the default since PostgreSQL 9.1). */
export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export interface TableRef {
  schema: string;
  name: string;
}

/** `schema.name` for messages and reports (unquoted unless needed). */
export function displayName(table: TableRef): string {
  const part = (value: string) => (/^[a-z_][a-z0-9_$]*$/.test(value) ? value : ident(value));
  return `${part(table.schema)}.${part(table.name)}`;
}

/** Directions sync knows by name; any other name is allowed through the `name` option. */
export const SYNC_NAMES = {
  forward: "bluegreen_blue_to_green",
  reverse: "bluegreen_green_to_blue",
} as const;

/**
 * Publication, subscription and slot share one name. It must be a valid slot name
 * (lower-case letters, digits, underscores; at most 63 bytes) so it is accepted everywhere unquoted.
 */
export function validateSyncName(name: string): string | undefined {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) {
    return `sync name "${name}" must be 1-63 characters of lower-case letters, digits and underscores (it names a replication slot)`;
  }
  return undefined;
}
