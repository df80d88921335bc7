// The commands refuse a database password on their command line (it would show in ps and in npm's
// echo). Tests that hand a command a server's URL (with its password) give it the way an operator
// now must: the URL in an environment variable, named by --blue-env / --green-env / --database-url-env.

import { carriesPassword } from "../../scripts/cli/argvSecrets.js";

const TO_ENV: Record<string, { flag: string; variable: string }> = {
  "--blue": { flag: "--blue-env", variable: "BLUEGREEN_TEST_BLUE_URL" },
  "--green": { flag: "--green-env", variable: "BLUEGREEN_TEST_GREEN_URL" },
  "--database-url": { flag: "--database-url-env", variable: "BLUEGREEN_TEST_DATABASE_URL" },
};

export function secretsToEnv(args: readonly string[]): { args: string[]; env: Record<string, string> } {
  const out: string[] = [];
  const env: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 1) {
    const target = TO_ENV[args[i]!];
    const value = args[i + 1];
    if (target && value !== undefined && carriesPassword(value)) {
      out.push(target.flag, target.variable);
      env[target.variable] = value;
      i += 1;
    } else {
      out.push(args[i]!);
    }
  }
  return { args: out, env };
}
