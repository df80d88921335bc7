// How AWS SDK errors become the command line's outcomes.
//
// The SDK has already retried (its own standard/adaptive retry modes, AWS_RETRY_MODE and
// AWS_MAX_ATTEMPTS) by the time an error reaches us. What is left is classified:
// - network failures, timeouts and credential problems → UnreachableError (exit 3);
// - throttling that outlasted the retries → AwsThrottledError (an UnreachableError: exit 3).
//   Throttling is never read as success: it is an error like any other, the write did not happen;
// - everything else (a missing listener, a validation error) → AwsCallError (exit 1) naming the call.
// Messages carry the call, the AWS error code and its message; AWS never echoes credentials back.

import { STATUS_CODES } from "node:http";
import { UnreachableError } from "../core/errors.js";

/** Error codes AWS services use for throttling (ELBv2 "Throttling", SSM "ThrottlingException", ...). */
const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "PriorRequestNotComplete",
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
]);

const CREDENTIALS = new Set([
  "CredentialsProviderError",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "InvalidSignatureException",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "MissingAuthenticationTokenException",
  "AuthFailure",
  "RequestExpired",
  "TokenRefreshRequired",
]);

const ACCESS_DENIED = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"]);

const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ECONNABORTED"]);

const SERVER_SIDE = new Set(["InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException"]);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

export class AwsThrottledError extends UnreachableError {
  override name = "AwsThrottledError";
}

/** An AWS call failed for a reason that is not reachability: the call and the AWS code are named. */
export class AwsCallError extends Error {
  override name = "AwsCallError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export function awsErrorCode(error: unknown): string {
  const e = (error ?? {}) as SdkLikeError;
  return e.name && e.name !== "Error" ? e.name : (e.code ?? "Error");
}

export function isThrottling(error: unknown): boolean {
  const e = (error ?? {}) as SdkLikeError;
  return THROTTLING.has(awsErrorCode(error)) || (e.code !== undefined && THROTTLING.has(e.code)) || e.$metadata?.httpStatusCode === 429;
}

/** Translate an SDK error for `call` ("ModifyListener arn:...") into one of our error classes. */
export function classifyAwsError(error: unknown, call: string, signal?: AbortSignal): Error {
  if (error instanceof UnreachableError || error instanceof AwsCallError) return error;
  const e = (error ?? {}) as SdkLikeError;
  const code = awsErrorCode(error);
  const detail = (e.message ?? String(error)).split("\n")[0];
  const attempts = e.$metadata?.attempts;
  const after = attempts && attempts > 1 ? ` after ${attempts} attempts` : "";
  if (isThrottling(error)) {
    return new AwsThrottledError(
      `${call}: AWS throttled the request${after} (${code}); nothing was changed by this call. Retry later, or set AWS_RETRY_MODE=adaptive / AWS_MAX_ATTEMPTS`,
    );
  }
  if (CREDENTIALS.has(code) || (e.code !== undefined && CREDENTIALS.has(e.code))) {
    return new UnreachableError(`${call}: AWS credentials were refused or not found (${code}): ${detail}`);
  }
  if (ACCESS_DENIED.has(code)) {
    return new UnreachableError(`${call}: access denied by AWS (${code}): ${detail}. Check the IAM permissions of the current credentials`);
  }
  if (code === "AbortError") {
    // Our own deadline (or the operator's Ctrl-C) aborted the call: say which, not "Request aborted".
    // The SDK's AbortError does not carry the signal's reason: take it from the signal.
    const cause = (error as { cause?: unknown }).cause ?? signal?.reason;
    return new UnreachableError(`${call}: not answered before it was stopped (${cause instanceof Error ? cause.message : detail})`);
  }
  if (NETWORK.has(code) || (e.code !== undefined && NETWORK.has(e.code)) || code === "TimeoutError" || code === "RequestTimeout") {
    // The handler's own wording names the package and the option; say what it means.
    const configured = /configured (\d+) ms requestTimeout/.exec(detail ?? "")?.[1];
    const what = configured !== undefined ? `no answer within the ${Number(configured) / 1000} s request timeout` : detail;
    return new UnreachableError(`${call}: AWS endpoint unreachable (${e.code ?? code})${after}: ${what}`);
  }
  const status = e.$metadata?.httpStatusCode;
  const http = status !== undefined ? `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ""}` : null;
  // An answer that is not an AWS error document (an HTML page from a proxy or a load balancer, an
  // empty body) leaves the SDK with no code and no message: name the HTTP status instead.
  const anonymous = !code || UNNAMED.has(code);
  const codeText = anonymous ? (http ?? "no AWS error code") : code;
  const detailText =
    !detail || UNNAMED.has(detail)
      ? "the answer was not an AWS error (no code, no message: an HTML or empty body from the endpoint or a proxy in front of it)"
      : detail;
  if (SERVER_SIDE.has(code) || (status ?? 0) >= 500) {
    return new UnreachableError(
      `${call}: AWS answered with a server error${after} (${anonymous || http === null ? codeText : `${code}, ${http}`}): ${detailText}`,
    );
  }
  return new AwsCallError(`${call}: ${codeText}: ${detailText}`, code);
}

/** What the SDK names an error it could not read a code or a message from. */
const UNNAMED = new Set(["Unknown", "UnknownError", "Error", "undefined"]);

/** Run one AWS call; any failure comes out classified. */
export async function awsCall<T>(call: string, send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw classifyAwsError(error, call, signal);
  }
}

export { clientConfig, CONNECTION_TIMEOUT_MS, REQUEST_TIMEOUT_MS, type ClientSettings } from "../net/awsClientSettings.js";

/**
 * Where an adapter gets the AbortSignal for its next call (`client.send(command, { abortSignal })`):
 * the command's deadline. A getter, not a signal, because the caller may hand out a later one
 * for the clean-up calls (journal, lock) once the work deadline has passed.
 */
export type SignalSource = () => AbortSignal | undefined;

/** The SDK's per-call options for the signal a call was given (taken once per call from the SignalSource). */
export function sendOptions(abortSignal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return abortSignal ? { abortSignal } : {};
}

/** The Node 20 deprecation notice of the SDK is noise on an operator's terminal; hide only that one. */
export function quietSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
