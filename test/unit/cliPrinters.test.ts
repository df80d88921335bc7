import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../../scripts/core/events.js";
import { createEventPrinter } from "../../scripts/cli/eventPrinter.js";
import { renderLive } from "../../scripts/cli/liveView.js";
import { NO_PALETTE } from "../../scripts/cli/plainPrinter.js";
import { parseStackOutputs, parseRollbackOutputs } from "../../scripts/app/stackOutputs.js";
import { webhookText } from "../../scripts/app/policies/webhook.js";
import { redact } from "../../scripts/core/redact.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const at = Date.UTC(2026, 0, 15, 9, 0, 0);
const verdict = {
  status: "pass" as const,
  readings: {
    blue: { requests: 1900, errors5xx: 2, errorRate: 2 / 1900, p95Ms: 110, p99Ms: 240, healthy: 2, unhealthy: 0 },
    green: { requests: 100, errors5xx: 0, errorRate: 0, p95Ms: 120, p99Ms: 250, healthy: 2, unhealthy: 0 },
  },
  observedGreenShare: 0.05,
  checks: [],
  reasons: [],
};
const events: EngineEvent[] = [
  { type: "phase-changed", at, runId: "r", from: "recording", to: "baking", step: 0 },
  { type: "gate-reading", at, runId: "r", step: 0, phase: "baking", poll: 1, passes: 1, passesRequired: 5, window: { start: at - 60_000, end: at }, verdict },
  { type: "tick", at, runId: "r", phase: "baking", step: 0, elapsedMs: 60_000, totalMs: 300_000, remainingMs: 240_000, nextPollInMs: 30_000 },
  { type: "decision", at, runId: "r", decision: "rollback", reason: "green 5xx 4% > 1%", step: 0, phase: "baking" },
];

function capture() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe("event printers", () => {
  it("plain: one line per event, ticks left out", () => {
    const out = capture();
    const printer = createEventPrinter({ json: false, live: false, color: false }, out.stream);
    events.forEach(printer);
    printer.close();
    const lines = out.text().trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/baking poll 1: PASS \(1\/5\) green 100 req/);
    expect(lines[2]).toMatch(/decision: rollback — green 5xx 4% > 1%/);
    expect(out.text()).not.toMatch(/\x1b\[/);
  });

  it("--json: JSON lines that round-trip", () => {
    const out = capture();
    const printer = createEventPrinter({ json: true, live: false, color: false }, out.stream);
    events.forEach(printer);
    const parsed = out
      .text()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as EngineEvent);
    expect(parsed.map((e) => e.type)).toEqual(["phase-changed", "gate-reading", "decision"]);
  });

  it("live view: step progress, countdown and readings per color", () => {
    const text = renderLive(
      {
        operation: "cutover",
        steps: [
          { blue: 95, green: 5 },
          { blue: 75, green: 25 },
          { blue: 0, green: 100 },
        ],
        step: 0,
        phase: "baking",
        weights: { blue: 95, green: 5 },
        verdict,
        verdictAt: at,
        poll: { passes: 1, required: 5 },
        tick: events[2] as Extract<EngineEvent, { type: "tick" }>,
        status: null,
        started: at - 90_000,
      },
      NO_PALETTE,
      at,
    );
    expect(text).toMatch(/cutover step 1\/3 · blue 95 \/ green 5 · baking · 1m 30s elapsed/);
    expect(text).toMatch(/steps \[5%\] → 25% → 100%/);
    expect(text).toMatch(/bake 4m 00s left · next poll in 30s · passes 1\/5/);
    expect(text).toMatch(/blue +1900 +0\.11% +110 ms +240 ms +2 ok/);
    expect(text).toMatch(/green +100 +0\.00% +120 ms +250 ms +2 ok/);
    expect(text).toMatch(/gates PASS .* observed green share 5\.0%/);
  });

  it("live view on a terminal: redraws in place and keeps the event lines", () => {
    const out = capture();
    const stream = Object.assign(out.stream, { isTTY: true, columns: 120, rows: 40 });
    const printer = createEventPrinter({ json: false, live: true, color: true }, stream);
    for (const event of events) printer(event);
    printer({ type: "done", at, runId: "r", operation: "cutover", outcome: "rolled-back", reason: "green 5xx 4% > 1%" });
    printer.close();
    printer.close();
    const text = out.text();
    expect(text).toMatch(/decision: rollback/);
    expect(text).toMatch(/bake 4m 00s left/);
    expect(text).toMatch(/\x1b\[/); // colors and cursor movement
  });

  it("webhook: Slack-compatible text for what on-call cares about", () => {
    expect(webhookText(events[3]!, "prod")).toMatch(/^\[bluegreen prod\] :rotating_light: \[step 1\] decision: rollback/);
    expect(webhookText(events[2]!, "prod")).toBeNull();
    expect(webhookText(events[1]!, "prod")).toBeNull();
  });

  it("hook output is redacted", () => {
    expect(redact("connect postgres://app:s3cret@db/x token=abc123 ok", [])).toBe("connect postgres://app:***@db/x token=*** ok");
    expect(redact("value hunter22 printed", ["hunter22"])).toBe("value *** printed");
  });
});

describe("stack outputs validation", () => {
  it("accepts the example outputs (full and rollback's fast check agree)", async () => {
    const raw = JSON.parse(await readFile(join(import.meta.dirname, "../../examples/stack-outputs.prod.json"), "utf8")) as unknown;
    const full = parseStackOutputs(raw, "example");
    const fast = parseRollbackOutputs(raw, "example");
    expect(fast).toEqual({
      pulumiProject: full.pulumiProject,
      pulumiStack: full.pulumiStack,
      region: full.region,
      databaseMode: full.databaseMode,
      listenerArns: full.listenerArns,
      targetGroupArns: full.targetGroupArns,
      stickinessSeconds: full.stickinessSeconds,
      fenceRuleArns: full.fenceRuleArns,
      asgNames: full.asgNames,
    });
  });

  it("refuses outputs that route nothing", async () => {
    const raw = JSON.parse(await readFile(join(import.meta.dirname, "../../examples/stack-outputs.prod.json"), "utf8")) as Record<string, unknown>;
    const empty = { ...raw, listenerArns: [], ruleArns: [] };
    expect(() => parseStackOutputs(empty, "x")).toThrow(/nothing routes production traffic/);
    expect(() => parseRollbackOutputs(empty, "x")).toThrow(/nothing routes production traffic/);
  });

  it("refuses an ARN of another region than the outputs' region, in the full and the rollback check", async () => {
    const raw = JSON.parse(await readFile(join(import.meta.dirname, "../../examples/stack-outputs.prod.json"), "utf8")) as Record<string, unknown>;
    const listeners = raw.listenerArns as string[];
    const region = raw.region as string;
    const elsewhere = region === "us-east-1" ? "eu-west-1" : "us-east-1";
    const mixed = { ...raw, listenerArns: [listeners[0]!.replace(`:${region}:`, `:${elsewhere}:`)] };
    const message = new RegExp(`listenerArns: \\S+ is in region ${elsewhere}, but region is ${region}`);
    expect(() => parseStackOutputs(mixed, "x")).toThrow(message);
    expect(() => parseRollbackOutputs(mixed, "x")).toThrow(message);
  });

  it("reads the orchestrator's state machines when present, null when absent, and refuses a non-state-machine ARN", async () => {
    const raw = JSON.parse(await readFile(join(import.meta.dirname, "../../examples/stack-outputs.prod.json"), "utf8")) as Record<string, unknown>;
    const region = raw.region as string;
    expect(parseStackOutputs(raw, "x").rolloutStateMachineArn).toBeNull();
    const arn = `arn:aws:states:${region}:123456789012:stateMachine:prod-rollout`;
    expect(parseStackOutputs({ ...raw, rolloutStateMachineArn: arn }, "x").rolloutStateMachineArn).toBe(arn);
    expect(() => parseStackOutputs({ ...raw, rolloutStateMachineArn: `arn:aws:states:${region}:123456789012:execution:prod-rollout:run-1` }, "x")).toThrow(
      /rolloutStateMachineArn: must be a Step Functions state machine ARN/,
    );
  });
});
