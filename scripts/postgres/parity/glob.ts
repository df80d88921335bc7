// Table patterns for --include/--exclude: shell-style globs on "schema.table".
// A pattern without a dot also matches the bare table name in any schema.

export function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (const ch of pattern) {
    if (ch === "*") source += ".*";
    else if (ch === "?") source += ".";
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "u");
}

export function matchesPattern(fullName: string, pattern: string): boolean {
  const re = globToRegExp(pattern);
  if (re.test(fullName)) return true;
  if (!pattern.includes(".")) {
    const dot = fullName.indexOf(".");
    return re.test(fullName.slice(dot + 1));
  }
  return false;
}

export interface Selection {
  selected: string[];
  /** Patterns that matched no table: bad input. */
  unmatched: string[];
}

export function selectTables(names: Iterable<string>, include: string[], exclude: string[]): Selection {
  const all = [...names];
  const unmatched = [...include, ...exclude].filter((p) => !all.some((name) => matchesPattern(name, p)));
  const selected = all.filter(
    (name) => (include.length === 0 || include.some((p) => matchesPattern(name, p))) && !exclude.some((p) => matchesPattern(name, p)),
  );
  return { selected, unmatched };
}
