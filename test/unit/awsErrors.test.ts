// AWS errors name what happened: an answer that is not an AWS error document (a 503 HTML page
// from a proxy or a load balancer in front of the endpoint) is named by its HTTP status, never
// "server error (Unknown): Unknown". Against a local server on 127.0.0.1 through the real SDK
// client (its own retries included), so the error is the one the SDK really produces.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DescribeListenersCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AwsCallError, classifyAwsError } from "../../scripts/aws/errors.js";
import { UnreachableError } from "../../scripts/core/errors.js";

let server: Server;
let url: string;
let status = 503;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests += 1;
    req.resume();
    res.writeHead(status, { "content-type": "text/html" });
    res.end("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function describeListeners(): Promise<unknown> {
  const client = new ElasticLoadBalancingV2Client({
    region: "eu-west-1",
    endpoint: url,
    maxAttempts: 3,
    credentials: { accessKeyId: "AKID", secretAccessKey: "x" },
  });
  try {
    await client.send(new DescribeListenersCommand({ ListenerArns: ["arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/bg/1/https"] }));
    return null;
  } catch (error) {
    return error;
  } finally {
    client.destroy();
  }
}

describe("an answer that is not an AWS error", () => {
  test("a 503 HTML page: a server error named by its HTTP status, after the SDK's retries", { timeout: 20_000 }, async () => {
    status = 503;
    requests = 0;
    const error = classifyAwsError(await describeListeners(), "DescribeListeners");
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).not.toMatch(/Unknown/);
    expect(error.message).toMatch(
      /^DescribeListeners: AWS answered with a server error after 3 attempts \(HTTP 503 Service Unavailable\): the answer was not an AWS error/,
    );
    expect(requests).toBe(3);
  });

  test("a 403 HTML page (a proxy refusing): an error naming HTTP 403, not retried as a server error", { timeout: 20_000 }, async () => {
    status = 403;
    const error = classifyAwsError(await describeListeners(), "DescribeListeners");
    expect(error.message).not.toMatch(/Unknown/);
    expect(error.message).toMatch(/HTTP 403 Forbidden/);
  });

  test("an AWS error keeps its own code and message", () => {
    const error = classifyAwsError(
      Object.assign(new Error("listener x not found"), { name: "ListenerNotFound", $metadata: { httpStatusCode: 400 } }),
      "ModifyListener x",
    );
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error.message).toBe("ModifyListener x: ListenerNotFound: listener x not found");
    const server = classifyAwsError(
      Object.assign(new Error("We encountered an internal error"), { name: "InternalFailure", $metadata: { httpStatusCode: 500, attempts: 3 } }),
      "GetMetricData",
    );
    expect(server.message).toBe(
      "GetMetricData: AWS answered with a server error after 3 attempts (InternalFailure, HTTP 500 Internal Server Error): We encountered an internal error",
    );
  });
});
