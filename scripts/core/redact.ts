// Keeping secrets out of logs, reports and errors: one set of rules for every place that prints
// text that may carry one (database errors, subscription connection strings, hook output, URLs).

/**
 * Remove secrets from free text:
 * - the given secret values, raw and in the encoded forms they take in URLs and SQL literals;
 * - `password=value` conninfo pairs, quoted or not (PostgreSQL quotes a subscription's
 *   connection string in some errors, inside an SQL literal: `password=''...''`);
 * - `token=`, `secret:`, `api_key=`, `authorization:` style assignments;
 * - `scheme://user:secret@` URL credentials, and secret query parameters (`?password=`, `&sslpassword=`).
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 3) continue;
    for (const form of new Set([secret, encodeURIComponent(secret), secret.replace(/'/g, "\\'"), secret.replace(/'/g, "\\''"), secret.replace(/'/g, "''")])) {
      out = out.split(form).join("***");
    }
  }
  out = out.replace(
    /(password\s*=\s*)(''(?:[^']|'''')*''|'(?:[^'\\]|\\.)*'|[^\s']+)/gi,
    (_m, key: string, value: string) => `${key}${value.startsWith("''") ? "''***''" : value.startsWith("'") ? "'***'" : "***"}`,
  );
  out = out.replace(/((?:passwd|secret|token|api[_-]?key|authorization)["']?\s*[:=]\s*["']?)[^\s"',;]+/gi, "$1***");
  out = out.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, "$1***@");
  out = out.replace(/([?&](?:ssl)?password=)[^&\s"']*/gi, "$1***");
  return out;
}

/** Query parameters and conninfo keys whose value is a secret (libpq: password, sslpassword; and the usual token names). */
const SECRET_PARAM =
  /^(?:password|passwd|pwd|sslpassword|secret|token|access[_-]?token|api[_-]?key|auth|authorization|signature|x-amz-signature|x-amz-security-token)$/i;

/**
 * A connection string without its secrets, safe to print: the user-info password of a URL
 * (postgres://user:***@host/db), secret query parameters (?password=***, ?sslpassword=***), and,
 * for a key=value conninfo string (`host=db password=...`) or anything unparseable, every
 * secret assignment (see redact()).
 */
export function redactUrl(url: string): string {
  let parsed: URL | null = null;
  try {
    parsed = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  if (!parsed) return redact(url).replace(/(\/\/[^:/@\s]*:)[^@\s]*@/, "$1***@");
  if (parsed.password !== "") parsed.password = "***";
  for (const key of [...parsed.searchParams.keys()]) if (SECRET_PARAM.test(key)) parsed.searchParams.set(key, "***");
  return parsed.toString().replace(/%2A%2A%2A/g, "***");
}
