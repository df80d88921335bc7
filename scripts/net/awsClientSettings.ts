// The AWS SDK clients' settings, shared by every adapter that builds one (scripts/aws, and the
// Secrets Manager read in scripts/postgres/stackDatabases.ts): plain values, no SDK import, so
// the adapter families share them without importing one another.

/**
 * Client settings shared by every adapter: the stack's region (its ARNs live there) and timeouts
 * that throw, so a black-holed endpoint cannot hang a command. `@smithy/node-http-handler` (4.x)
 * only logs a warning when `requestTimeout` passes unless `throwOnRequestTimeout` is set; with it
 * the request is destroyed and fails with a TimeoutError, which the SDK's retry mode retries (it
 * is transient) and we then classify as unreachable. Credentials come from the default chain,
 * retries from the SDK's retry mode (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS) and endpoint overrides
 * from the SDK's own AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>.
 */
export const CONNECTION_TIMEOUT_MS = 3_000;
export const REQUEST_TIMEOUT_MS = 10_000;

export interface ClientSettings {
  region: string;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
}

export function clientConfig(region: string): ClientSettings {
  return { region, requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true } };
}
