// Keeping secrets out of logs, reports and errors: one set of rules for every place that prints
// text that may carry one (database errors, subscription connection strings, hook output, URLs).

/**
 * Remove secrets from free text:
 * - the given secret values, raw and in the encoded forms they take in URLs and SQL literals;
 * - `password=value` conninfo pairs, quoted or not (PostgreSQL quotes a subscription's
 *   connection string in some errors, inside an SQL literal: `password=''...''`);
 * - `token=`, `secret:`, `api_key=`, `authorization:` style assignments;
 * - `scheme://user:secret@` URL credentials.
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 3) continue;
    for (const form of new Set([secret, encodeURIComponent(secret), secret.replace(/'/g, "\\'"), secret.replace(/'/g, "\\''"), secret.replace(/'/g, "''")])) {
      out = out.split(form).join("***");
    }
  }
  out = out.replace(/(password\s*=\s*)(''(?:[^']|'''')*''|'(?:[^'\\]|\\.)*'|[^\s']+)/gi, (_m, key: string, value: string) =>
    `${key}${value.startsWith("''") ? "''***''" : value.startsWith("'") ? "'***'" : "***"}`,
  );
  out = out.replace(/((?:passwd|secret|token|api[_-]?key|authorization)["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, "$1***");
  out = out.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1***@");
  return out;
}

/** postgres://user:***@host:port/db?params: a URL without its password, safe to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString().replace("%2A%2A%2A", "***");
  } catch {
    // Unparseable: strip anything between "//user:" and "@".
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
  }
}
