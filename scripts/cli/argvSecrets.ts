// Secrets never on the command line: argv is readable by every user of the machine (ps, /proc)
// and `npm run` echoes it into CI logs, masking only `user:pass@`. A database URL or conninfo
// string that carries a password is refused (exit 2) with the ways to give it instead; the
// message shows the argument with its password masked.

import { redactUrl } from "../core/redact.js";
import { UsageError } from "./common.js";

const URL_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^@\s]*@/i;
const QUERY_PASSWORD = /[?&](?:ssl)?password=/i;
const CONNINFO_PASSWORD = /(?:^|\s)(?:ssl)?password\s*=/i;

/** True when a command-line argument carries a database password (URL user info, ?password=, conninfo password=). */
export function carriesPassword(argument: string): boolean {
  return URL_PASSWORD.test(argument) || QUERY_PASSWORD.test(argument) || CONNINFO_PASSWORD.test(argument);
}

export const PASSWORD_ALTERNATIVES =
  "give it another way: --blue-env VAR / --green-env VAR / --database-url-env VAR (the name of an environment variable that holds the URL), " +
  "BLUE_DATABASE_URL / GREEN_DATABASE_URL / DATABASE_URL, a URL without the password plus PGPASSWORD or a pgpass/service file (PGPASSFILE, PGSERVICEFILE), " +
  "or --stack NAME (the stack's Secrets Manager secret)";

/** Throws UsageError when any argument carries a password; names the option it was given to. */
export function refuseSecretsOnArgv(argv: readonly string[]): void {
  argv.forEach((argument, i) => {
    const [flag, inline] =
      argument.startsWith("--") && argument.includes("=")
        ? [argument.slice(0, argument.indexOf("=")), argument.slice(argument.indexOf("=") + 1)]
        : [null, argument];
    if (!carriesPassword(inline)) return;
    const owner = flag ?? (i > 0 && argv[i - 1]!.startsWith("--") ? argv[i - 1]! : "an argument");
    throw new UsageError(
      `${owner} ${redactUrl(inline)}: a password on the command line is refused (other users see it in ps, npm echoes it into logs); ${PASSWORD_ALTERNATIVES}`,
    );
  });
}

/** --blue-env VAR and the like: the URL from the named environment variable. */
export function urlFromEnv(name: string | undefined, flag: string, env: NodeJS.ProcessEnv): string | undefined {
  if (name === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new UsageError(`${flag} ${JSON.stringify(name)}: must be the name of an environment variable (letters, digits, _)`);
  const value = env[name];
  if (value === undefined || value === "") throw new UsageError(`${flag} ${name}: the environment variable ${name} is not set`);
  return value;
}
