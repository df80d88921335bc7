// Local stand-ins the Lambda bundles' tests point the SDK and node-postgres at: a Secrets Manager
// endpoint on 127.0.0.1, and ports nothing listens on (a database that refuses connections).

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A Secrets Manager endpoint on 127.0.0.1 (JSON protocol): GetSecretValue only, and which ids were asked for. */
export async function startSecretsEndpoint(values: Record<string, unknown>): Promise<{ url: string; asked: string[]; close: () => Promise<void> }> {
  const asked: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const id = (JSON.parse(body || "{}") as { SecretId?: string }).SecretId ?? "";
      asked.push(id);
      const ok = String(req.headers["x-amz-target"]) === "secretsmanager.GetSecretValue" && id in values;
      res.writeHead(ok ? 200 : 400, { "content-type": "application/x-amz-json-1.1", ...(ok ? {} : { "x-amzn-errortype": "ResourceNotFoundException" }) });
      res.end(
        JSON.stringify(ok ? { ARN: id, Name: id, SecretString: JSON.stringify(values[id]) } : { __type: "ResourceNotFoundException", message: "not found" }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Two different ports nothing listens on (bound at once, then closed). */
export async function closedPorts(): Promise<[number, number]> {
  const servers = [createServer(), createServer()];
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))));
  const ports = servers.map((server) => (server.address() as AddressInfo).port) as [number, number];
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
