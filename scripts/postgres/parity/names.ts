// Names of catalog objects. Maps are keyed by the (schema, name) pair itself, never by a joined
// string: `a."b.c"` and `"a.b".c` are two tables, and "a.b.c" would make them one.

/** A map key for (schema, name[, more…]): the JSON of the tuple, so no two tuples share a key. */
export function nameKey(schema: string, name: string, ...more: string[]): string {
  return JSON.stringify([schema, name, ...more]);
}

/** One part of a name for people: as is, double-quoted when it holds a dot (or would look quoted). */
function displayPart(part: string): string {
  return part.includes(".") || part.startsWith('"') ? `"${part.replace(/"/g, '""')}"` : part;
}

/**
 * schema.name for reports and --include/--exclude globs: unquoted as before ("public.orders",
 * `Odd Schema.Weird "Table" ñ`), except that a part holding a dot is quoted, so `a."b.c"` and
 * `"a.b".c` read differently.
 */
export function displayName(schema: string, name: string): string {
  return `${displayPart(schema)}.${displayPart(name)}`;
}
