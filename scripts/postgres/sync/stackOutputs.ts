// Database URLs for blue and green from the stack outputs (`pulumi stack output --json`):
// endpoints from `databaseEndpoints`, credentials from the Secrets Manager secrets named in
// `databaseSecretArns`. The AWS SDK is imported only on this path.

import { readFile } from "node:fs/promises";
import { z } from "zod";
import { UnreachableError, UsageError } from "../../cli/common.js";

const Endpoint = z.union([
  z.string().min(1),
  z.object({ address: z.string().min(1), port: z.coerce.number().int().positive().optional() }),
  z.object({ host: z.string().min(1), port: z.coerce.number().int().positive().optional() }),
]);

const Outputs = z.object({
  databaseEndpoints: z.object({ blue: Endpoint, green: Endpoint }),
  databaseSecretArns: z.object({ blue: z.string().min(1), green: z.string().min(1) }),
  databaseName: z.string().min(1).optional(),
});

const Secret = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  dbname: z.string().optional(),
  host: z.string().optional(),
  port: z.coerce.number().optional(),
});

export interface ColorUrls {
  blue: string;
  green: string;
}

function hostPort(endpoint: z.infer<typeof Endpoint>): { host: string; port: number } {
  if (typeof endpoint === "string") {
    const match = /^(.*?)(?::(\d+))?$/.exec(endpoint.trim());
    return { host: match?.[1] ?? endpoint, port: match?.[2] ? Number(match[2]) : 5432 };
  }
  return { host: "address" in endpoint ? endpoint.address : endpoint.host, port: endpoint.port ?? 5432 };
}

/** Parse the outputs file; a file holding several stacks' outputs keyed by stack name is accepted too. */
export async function readStackOutputs(file: string, stack: string | undefined): Promise<z.infer<typeof Outputs>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new UsageError(`--outputs ${file}: ${(error as Error).message}; expected the JSON of \`pulumi stack output --json\``);
  }
  if (stack && raw && typeof raw === "object" && stack in raw && !("databaseEndpoints" in raw)) {
    raw = (raw as Record<string, unknown>)[stack];
  }
  const parsed = Outputs.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `--outputs ${file}${stack ? ` (stack ${stack})` : ""}: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}; ` +
        `expected databaseEndpoints.{blue,green} and databaseSecretArns.{blue,green} (a paired-database stack)`,
    );
  }
  return parsed.data;
}

/**
 * Build both URLs. TLS: sslmode=verify-full by default (RDS requires TLS; trust the RDS CA with
 * NODE_EXTRA_CA_CERTS=global-bundle.pem), or the given sslmode.
 */
export async function urlsFromStack(options: { file: string; stack?: string; database?: string; sslmode?: string }): Promise<ColorUrls> {
  const outputs = await readStackOutputs(options.file, options.stack);
  const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  const client = new SecretsManagerClient({});
  const fetchSecret = async (color: "blue" | "green") => {
    const arn = outputs.databaseSecretArns[color];
    let text: string | undefined;
    try {
      const response = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      text = response.SecretString;
    } catch (error) {
      const name = (error as { name?: string }).name ?? "Error";
      if (name === "ResourceNotFoundException" || name === "ValidationException") {
        throw new UsageError(`secret for ${color} (${arn}): ${name}; check databaseSecretArns.${color} in the outputs file`);
      }
      throw new UnreachableError(`could not read the ${color} database secret (${arn}) from Secrets Manager: ${name}: ${(error as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text ?? "");
    } catch {
      throw new UsageError(`secret for ${color} (${arn}) is not JSON with username and password`);
    }
    const secret = Secret.safeParse(json);
    if (!secret.success) throw new UsageError(`secret for ${color} (${arn}) lacks username/password`);
    return secret.data;
  };
  try {
    const build = async (color: "blue" | "green") => {
      const secret = await fetchSecret(color);
      const { host, port } = hostPort(outputs.databaseEndpoints[color]);
      const db = options.database ?? outputs.databaseName ?? secret.dbname ?? "postgres";
      const url = new URL(`postgres://${host.includes(":") ? `[${host}]` : host}:${port}/`);
      url.username = encodeURIComponent(secret.username);
      url.password = encodeURIComponent(secret.password);
      url.pathname = `/${encodeURIComponent(db)}`;
      url.searchParams.set("sslmode", options.sslmode ?? "verify-full");
      return url.toString();
    };
    return { blue: await build("blue"), green: await build("green") };
  } finally {
    client.destroy();
  }
}
