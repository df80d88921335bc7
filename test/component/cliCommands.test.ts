// The command lines, in process, against a local mock AWS endpoint reached through the SDK's own
// AWS_ENDPOINT_URL (bench/rollbackStartup.ts). Bad input must exit 2 with a clear message and
// make no AWS call at all; good input runs end to end.

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { seedFromOutputs, type MockAws } from "../../bench/rollbackStartup.js";
import { decodeJournal } from "../../scripts/aws/ssmJournal.js";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { maintenanceMain } from "../../scripts/cli/maintenanceMain.js";
import { rollbackMain } from "../../scripts/cli/rollbackMain.js";
import { statusMain, type StatusReport } from "../../scripts/cli/statusMain.js";
import { exitCodeFor, UnreachableError } from "../../scripts/cli/common.js";
import { JournalCorruptError } from "../../scripts/core/engine.js";
import type { SyncStatus } from "../../scripts/postgres/sync/status.js";
import { prodConfigWithRollout, useCliHarness, type CliRun as Run, type StackOutputs } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-cli-", weights: { blue: 100, green: 0 }, prepare: (dir) => writeTestConfig(join(dir, "Pulumi.prod.yaml")) });
const { run } = cli;
let mock: MockAws;
let dir: string;
let outputs: StackOutputs;
beforeEach(() => void ({ mock, dir, outputs } = cli));

/** A fast rollout: two steps, no bake, no monitoring, one smoke hook. */
async function writeTestConfig(path: string, edit: (text: string) => string = (t) => t): Promise<void> {
  const rollout = [
    "    strategy:",
    "      type: canary",
    "      steps: [10, 100]",
    "    bakeSeconds: 0 # tests: no bake",
    "    monitorSeconds: 0",
    "    verifyTimeoutSeconds: 5",
    "    hooks:",
    "      - name: smoke",
    "        command: echo smoke ok",
    "        timeoutSeconds: 10",
  ];
  await writeFile(path, edit(await prodConfigWithRollout(rollout)));
}

const modifyCalls = () => mock.calls.filter((c) => /^(Modify|Put|Delete|Create)/.test(c.action));

const base = ["--stack", "prod", "--outputs", "outputs.json"];

describe("bad input: exit 2, a clear message, no AWS call", () => {
  const cases: Array<[string, () => Promise<Run>, RegExp]> = [
    ["unknown flag (cutover)", () => run(cutoverMain, [...base, "--yes", "--bogus"]), /unknown option '--bogus'/],
    ["unknown flag (rollback)", () => run(rollbackMain, [...base, "--fast"]), /unknown option '--fast'/],
    ["unknown flag (status)", () => run(statusMain, [...base, "--follow"]), /unknown option '--follow'/],
    ["unknown flag (maintenance)", () => run(maintenanceMain, ["on", ...base, "--now"]), /unknown option '--now'/],
    ["unknown stack", () => run(cutoverMain, ["--stack", "staging", "--outputs", "outputs.json", "--yes"]), /Pulumi\.staging\.yaml does not exist/],
    ["invalid stack name", () => run(cutoverMain, ["--stack", "prod;rm", "--yes"]), /must be a Pulumi stack name/],
    ["missing outputs file", () => run(cutoverMain, ["--stack", "prod", "--outputs", "nope.json", "--yes"]), /--outputs nope\.json does not exist/],
    ["missing outputs file (rollback)", () => run(rollbackMain, ["--stack", "prod", "--outputs", "nope.json"]), /--outputs nope\.json does not exist/],
    ["no pulumi and no --outputs", () => run(statusMain, ["--stack", "prod"]), /no stack outputs .*pass --outputs FILE/],
    ["no TTY and no --yes", () => run(cutoverMain, base), /stdin is not a terminal: pass --yes/],
    ["maintenance with a bad mode", () => run(maintenanceMain, ["sideways", ...base]), /must be on, read-only or off/],
    ["--skip-snapshot without a reason", () => run(cutoverMain, [...base, "--yes", "--skip-snapshot", " "]), /needs a reason/],
    ["--verify-timeout out of range", () => run(rollbackMain, [...base, "--verify-timeout", "0"]), /must be an integer 1\.\.600/],
    ["--webhook not a URL", () => run(cutoverMain, [...base, "--yes", "--webhook", "slack"]), /not a URL/],
  ];
  it.each(cases)("%s", async (_name, invoke, message) => {
    const result = await invoke();
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    expect(mock.calls).toEqual([]);
  });

  it("no --stack with several stack files", async () => {
    await writeTestConfig(join(dir, "Pulumi.staging.yaml"));
    const result = await run(statusMain, ["--outputs", "outputs.json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--stack NAME is required: this directory has prod, staging|--stack NAME is required: this directory has staging, prod/);
    expect(mock.calls).toEqual([]);
  });

  it("malformed outputs name the path (full validation and rollback's own)", async () => {
    const broken = { ...outputs, listenerArns: ["not-an-arn"], targetGroupArns: { blue: outputs.targetGroupArns.blue } };
    delete (broken as Record<string, unknown>).albArnSuffix;
    await writeFile(join(dir, "outputs.json"), JSON.stringify(broken));
    const cutover = await run(cutoverMain, [...base, "--yes"]);
    expect(cutover.code).toBe(2);
    expect(cutover.stderr).toMatch(/albArnSuffix: is missing/);
    expect(cutover.stderr).toMatch(/listenerArns\.0: must be an elasticloadbalancing ARN/);
    expect(cutover.stderr).toMatch(/targetGroupArns\.green/);
    const rollback = await run(rollbackMain, base);
    expect(rollback.code).toBe(2);
    expect(rollback.stderr).toMatch(/listenerArns\.0: must be an elasticloadbalancing ARN/);
    expect(rollback.stderr).toMatch(/targetGroupArns\.green/);
    await writeFile(join(dir, "outputs.json"), "{ not json");
    expect((await run(statusMain, base)).stderr).toMatch(/not valid JSON/);
    expect(mock.calls).toEqual([]);
  });

  it("malformed policy: the config path and the rule", async () => {
    await writeTestConfig(join(dir, "Pulumi.prod.yaml"), (text) => text.replace("type: canary", "type: yolo"));
    const result = await run(cutoverMain, [...base, "--yes"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/rollout\.strategy(\.type)?: must set type to "canary", "linear" or "all-at-once"/);
    expect(mock.calls).toEqual([]);
  });

  it("weights out of range", async () => {
    await writeTestConfig(join(dir, "Pulumi.prod.yaml"), (text) => text.replace("blue: 100\n      green: 0", "blue: 150\n      green: -50"));
    const result = await run(cutoverMain, [...base, "--yes"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/traffic\.weights\.blue: must be at most 100/);
    expect(result.stderr).toMatch(/traffic\.weights\.green: must be at least 0/);
    expect(mock.calls).toEqual([]);
  });

  it("config YAML that does not parse", async () => {
    await writeFile(join(dir, "Pulumi.prod.yaml"), "config:\n  aws:region: [eu-west-1\n");
    const result = await run(cutoverMain, [...base, "--yes"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Pulumi\.prod\.yaml:\d+:\d+: not valid YAML/);
    expect(mock.calls).toEqual([]);
  });

  it("config and outputs for different stacks", async () => {
    // Outputs of a stack in another region, consistent in themselves (every ARN in us-east-1).
    await writeFile(join(dir, "outputs.json"), JSON.stringify({ ...outputs, region: "us-east-1" }).replaceAll(":eu-west-1:", ":us-east-1:"));
    const result = await run(cutoverMain, [...base, "--yes"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/region eu-west-1, the stack outputs .* say us-east-1/);
    expect(mock.calls).toEqual([]);
  });

  it("--help exits 0 and lists the flags", async () => {
    const result = await run(cutoverMain, ["--help"]);
    expect(result.code).toBe(0);
    for (const flag of ["--stack", "--outputs", "--config", "--json", "--yes", "--dry-run", "--resume", "--skip-snapshot", "--webhook"])
      expect(result.stdout).toContain(flag);
    expect((await run(rollbackMain, ["--help"])).stdout).toContain("--force");
    expect(mock.calls).toEqual([]);
  });
});

describe("end to end against the mock ALB", () => {
  it("cutover --dry-run prints the plan and changes nothing", async () => {
    const result = await run(cutoverMain, [...base, "--dry-run"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Plan: canary, shared database, 2 steps/);
    expect(result.stdout).toMatch(/ModifyListener arn:aws:elasticloadbalancing/);
    expect(result.stdout).toMatch(/dry run: nothing was changed/);
    // Traffic-aware: the last hour of RequestCount per color gives each step's time to a decision.
    expect(result.stdout).toMatch(/Time to a decision, at the last 1h/);
    expect(modifyCalls()).toEqual([]);
  });

  it("cutover asks for PROCEED on a terminal; anything else cancels with nothing moved", async () => {
    const result = await run(cutoverMain, base, { stdin: "no thanks\n", tty: true });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/Type PROCEED/);
    expect(result.stderr).toMatch(/cancelled: nothing was changed/);
    expect(mock.calls.filter((c) => c.action === "ModifyListener")).toEqual([]);
    expect(mock.state.listeners.get(outputs.listenerArns[0]!)!.weights).toEqual({ blue: 100, green: 0 });
  });

  it("cutover then rollback: weights moved and verified, recorded in the SSM weights parameter (the config file only with --write-config), reports, lock released", async () => {
    const cutover = await run(cutoverMain, base, { stdin: "PROCEED\n", tty: true });
    expect(cutover.stderr).toMatch(/cutover succeeded/);
    expect(cutover.code).toBe(0);
    const listener = outputs.listenerArns[0]!;
    expect(mock.state.listeners.get(listener)!.weights).toEqual({ blue: 0, green: 100 });
    const writes = mock.calls.filter((c) => c.action === "ModifyListener");
    expect(
      writes.map((c) => [
        c.params["DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight"],
        c.params["DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight"],
      ]),
    ).toEqual([
      ["90", "10"],
      ["0", "100"],
    ]);
    const lockPut = mock.calls.find((c) => c.action === "PutParameter" && c.params.Name === "/bluegreen/bluegreen/prod/lock");
    expect(lockPut?.params.Overwrite).toBe(false);
    expect(mock.calls.filter((c) => c.action === "CreateDBSnapshot")).toHaveLength(1);
    // The live weights' one owner is the stack's SSM parameter (README "Who owns the weights");
    // the local config file is the seed only and is left alone.
    const weightsParameter = "/bluegreen/bluegreen/prod/weights";
    expect(
      mock.calls.filter((c) => c.action === "PutParameter" && c.params.Name === weightsParameter).map((c) => [c.params.Value, c.params.Overwrite]),
    ).toEqual([
      ['{"blue":90,"green":10}', true],
      ['{"blue":0,"green":100}', true],
    ]);
    expect(mock.state.parameters.get(weightsParameter)).toBe('{"blue":0,"green":100}');
    let config = await readFile(join(dir, "Pulumi.prod.yaml"), "utf8");
    expect(config).toMatch(/weights:\n {6}blue: 100\n {6}green: 0/);
    // A stale seed in the file: rollback --write-config writes the weights it reached there too, comments kept.
    await writeFile(join(dir, "Pulumi.prod.yaml"), config.replace(/weights:\n {6}blue: 100\n {6}green: 0/, "weights:\n      blue: 0\n      green: 100"));
    expect(mock.state.parameters.has("/bluegreen/bluegreen/prod/lock")).toBe(false);
    const stored = mock.state.parameters.get("/bluegreen/bluegreen/prod/journal")!;
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(8192);
    expect(decodeJournal(stored)).toMatchObject({ phase: "succeeded" });

    mock.calls.length = 0;
    const rollback = await run(rollbackMain, [...base, "--write-config"]);
    expect(rollback.code).toBe(0);
    expect(rollback.stderr).toMatch(/rollback rolled-back: .*blue 100 \/ green 0; wall time \d+ ms from process start/);
    expect(mock.state.listeners.get(listener)!.weights).toEqual({ blue: 100, green: 0 });
    // One write per route, then the read-back.
    expect(mock.calls.filter((c) => c.service === "elbv2").map((c) => c.action)).toEqual(["ModifyListener", "DescribeListeners"]);
    expect(mock.calls[0]).toMatchObject({ service: "ssm", action: "PutParameter", params: { Name: "/bluegreen/bluegreen/prod/lock", Overwrite: false } });
    expect(mock.state.parameters.get(weightsParameter)).toBe('{"blue":100,"green":0}');
    config = await readFile(join(dir, "Pulumi.prod.yaml"), "utf8");
    expect(config).toMatch(/weights:\n {6}blue: 100\n {6}green: 0/);
    expect(config).toContain("# Blue serves production today.");
    expect(config).toContain("bakeSeconds: 0 # tests: no bake");
    const reports = (await readdir(join(dir, "reports"))).sort();
    expect(reports.filter((f) => f.endsWith(".md"))).toHaveLength(2);
    expect(reports.filter((f) => f.endsWith(".json"))).toHaveLength(2);
    const rollbackReport = reports.find((f) => f.endsWith("-rollback.md"))!;
    expect(await readFile(join(dir, "reports", rollbackReport), "utf8")).toMatch(/rolled-back/);
    for (const file of reports) expect(await readFile(join(dir, "reports", file), "utf8")).not.toContain("mock-secret-not-real");
  });

  it("cutover --write-config also writes each weight reached into Pulumi.<stack>.yaml (opt-in), after the parameter", async () => {
    const result = await run(cutoverMain, [...base, "--yes", "--write-config"]);
    expect(result.code).toBe(0);
    expect(mock.state.parameters.get("/bluegreen/bluegreen/prod/weights")).toBe('{"blue":0,"green":100}');
    const config = await readFile(join(dir, "Pulumi.prod.yaml"), "utf8");
    expect(config).toMatch(/weights:\n {6}blue: 0\n {6}green: 100/);
    expect(config).toContain("# Blue serves production today.");
  });

  it("cutover --json emits JSON lines only on stdout", async () => {
    const result = await run(cutoverMain, [...base, "--yes", "--json"]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    const events = lines.map((line) => JSON.parse(line) as { type: string });
    expect(events[0]!.type).toBe("plan");
    expect(events.some((e) => e.type === "weights-verified")).toBe(true);
    expect(events.at(-1)!.type).toBe("report");
  });

  it("rollback is idempotent and refuses a held lock unless --force", async () => {
    mock.state.parameters.set("/bluegreen/bluegreen/prod/lock", JSON.stringify({ owner: "ana@ops-1 pid 42", since: 1, operation: "cutover", runId: "r1" }));
    const refused = await run(rollbackMain, base);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ana@ops-1 pid 42.*--force/);
    expect(mock.calls.filter((c) => c.action === "ModifyListener")).toEqual([]);
    const forced = await run(rollbackMain, [...base, "--force", "--reason", "green 5xx on checkout"]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/lock broken: broke the lock held by ana@ops-1 pid 42/);
    const again = await run(rollbackMain, base);
    expect(again.code).toBe(0);
    expect(mock.state.listeners.get(outputs.listenerArns[0]!)!.weights).toEqual({ blue: 100, green: 0 });
  });

  it("rollback (shared): the exact AWS call sequence, one write per route and one read-back", async () => {
    mock.state.listeners.set(outputs.listenerArns[0]!, { weights: { blue: 0, green: 100 }, stickinessSeconds: null });
    const result = await run(rollbackMain, base);
    expect(result.code).toBe(0);
    const lock = "/bluegreen/bluegreen/prod/lock";
    const journal = "/bluegreen/bluegreen/prod/journal";
    const listener = outputs.listenerArns[0]!;
    expect(mock.calls.map((c) => [c.service, c.action, c.params.Name ?? c.params.ListenerArn ?? c.params["ListenerArns.member.1"]])).toEqual([
      ["ssm", "PutParameter", lock], // acquire: Overwrite=false
      ["ssm", "GetParameter", journal], // the journal, loaded once
      ["ssm", "PutParameter", journal], // rolling-back, durable before traffic moves
      ["elbv2", "ModifyListener", listener], // the flip
      ["elbv2", "DescribeListeners", listener], // the read-back (matches at once: no second read)
      ["ssm", "PutParameter", journal], // verified on blue
      ["ssm", "PutParameter", "/bluegreen/bluegreen/prod/weights"], // the live weights' owner: Overwrite=true
      ["ssm", "PutParameter", journal], // rolled-back and done, in one save
      ["ssm", "GetParameter", lock], // release: still ours?
      ["ssm", "DeleteParameter", lock],
    ]);
    expect(mock.calls[0]!.params.Overwrite).toBe(false);
    expect(mock.state.listeners.get(listener)!.weights).toEqual({ blue: 100, green: 0 });
  });

  it("rollback (shared) with several listeners: one write each, then one DescribeListeners for all of them", async () => {
    const listeners = [outputs.listenerArns[0]!, outputs.listenerArns[0]!.replace(/[0-9a-f]{16}$/, "aaaaaaaaaaaaaaaa")];
    const several = { ...outputs, listenerArns: listeners };
    await writeFile(join(dir, "outputs.json"), JSON.stringify(several));
    seedFromOutputs(mock, several, { blue: 25, green: 75 });
    const result = await run(rollbackMain, base);
    expect(result.code).toBe(0);
    const elb = mock.calls.filter((c) => c.service === "elbv2");
    // Writes go out in parallel: compare them as a set.
    expect(
      elb
        .slice(0, 2)
        .map((c) => `${c.action} ${String(c.params.ListenerArn)}`)
        .sort(),
    ).toEqual(listeners.map((arn) => `ModifyListener ${arn}`).sort());
    expect(elb.slice(2).map((c) => c.action)).toEqual(["DescribeListeners"]);
    const describe = elb.find((c) => c.action === "DescribeListeners")!;
    expect([describe.params["ListenerArns.member.1"], describe.params["ListenerArns.member.2"]]).toEqual(listeners);
    for (const arn of listeners) expect(mock.state.listeners.get(arn)!.weights).toEqual({ blue: 100, green: 0 });
  });

  it("rollback warns about stickiness", async () => {
    await writeFile(join(dir, "outputs.json"), JSON.stringify({ ...outputs, stickinessSeconds: 3600 }));
    mock.state.listeners.set(outputs.listenerArns[0]!, { weights: { blue: 0, green: 100 }, stickinessSeconds: 3600 });
    const result = await run(rollbackMain, base);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/stickiness is on \(3600s\): clients that were pinned to green may keep reaching green for up to 60 minute/);
    const write = mock.calls.find((c) => c.action === "ModifyListener")!;
    expect(write.params["DefaultActions.member.1.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds"]).toBe("3600");
  });

  it("a throttled rollback write is a failed rollback, never a success", async () => {
    mock.state.listeners.set(outputs.listenerArns[0]!, { weights: { blue: 0, green: 100 }, stickinessSeconds: null });
    mock.state.throttle.add("ModifyListener");
    const result = await run(rollbackMain, [...base, "--verify-timeout", "1"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/throttled/);
    expect(result.stdout).toMatch(/ROLLBACK FAILED/);
    expect(mock.state.listeners.get(outputs.listenerArns[0]!)!.weights).toEqual({ blue: 0, green: 100 });
  });

  it("unreachable AWS exits 3", async () => {
    const saved = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:9";
    try {
      const result = await run(statusMain, base);
      expect(result.code).toBe(3);
    } finally {
      process.env.AWS_ENDPOINT_URL = saved;
    }
  });

  it("status shows drift, health, alarms, fence, lock and the last run", async () => {
    mock.state.listeners.set(outputs.listenerArns[0]!, { weights: { blue: 75, green: 25 }, stickinessSeconds: null });
    mock.state.alarms.set("bluegreen-prod-green-target-5xx-rate", "ALARM");
    mock.state.targetStates.green = ["healthy", "unhealthy"];
    const text = await run(statusMain, base);
    expect(text.code).toBe(0);
    // No weights parameter yet: `pulumi up` would seed 100/0 from the config, so live 75/25 is drift.
    expect(text.stdout).toMatch(/live .*: blue 75 \/ green 25 {2}≠ config\n/);
    expect(text.stdout).toMatch(/parameter \/bluegreen\/bluegreen\/prod\/weights: absent/);
    expect(text.stdout).toMatch(/config .*seed only\): blue 100 \/ green 0/);
    expect(text.stdout).toMatch(/DRIFT: live weights differ from what `pulumi up` applies \(100\/0\)/);
    expect(text.stdout).toMatch(/green: 1\/2 healthy, 1 unhealthy/);
    expect(text.stdout).toMatch(/ALARM +bluegreen-prod-green-target-5xx-rate/);
    expect(text.stdout).toMatch(/lock\n {2}free/);
    const json = await run(statusMain, [...base, "--json"]);
    const report = JSON.parse(json.stdout) as { drift: boolean; fence: { value: Array<{ mode: string }> } };
    expect(report.drift).toBe(true);
    expect(report.fence.value[0]!.mode).toBe("off");
    // The parameter holds the live weights (a cutover recorded them): no drift, the config seed only differs.
    mock.state.parameters.set("/bluegreen/bluegreen/prod/weights", '{"blue":75,"green":25}');
    const owned = await run(statusMain, base);
    expect(owned.stdout).toMatch(/live .*: blue 75 \/ green 25 {2}≠ config\n/);
    expect(owned.stdout).toMatch(/parameter \/bluegreen\/bluegreen\/prod\/weights: blue 75 \/ green 25/);
    expect(owned.stdout).not.toMatch(/DRIFT/);
    expect(owned.stdout).toMatch(/note: the config's weights differ from the parameter's: harmless/);
    const ownedJson = JSON.parse((await run(statusMain, [...base, "--json"])).stdout) as {
      drift: boolean;
      pulumiUpWeights: unknown;
      configDiffersFromParameter: boolean;
      routes: { value: Array<{ differs: unknown }> };
    };
    expect(ownedJson).toMatchObject({ drift: false, pulumiUpWeights: { blue: 75, green: 25 }, configDiffersFromParameter: true });
    expect(ownedJson.routes.value[0]!.differs).toEqual({ parameter: false, config: true });
    expect(modifyCalls()).toEqual([]);
  });

  it("maintenance read-only / on / off switch the fence rules and read them back", async () => {
    const fenceRule = outputs.fenceRuleArns[0]!;
    const readOnly = await run(maintenanceMain, ["read-only", ...base]);
    expect(readOnly.code).toBe(0);
    expect(readOnly.stdout).toMatch(/maintenance read-only: POST\/PUT\/PATCH\/DELETE are answered 503, reads flow \(verified/);
    expect(mock.state.fenceRules.get(fenceRule)).toEqual([
      {
        Field: "http-request-method",
        "HttpRequestMethodConfig.Values.member.1": "POST",
        "HttpRequestMethodConfig.Values.member.2": "PUT",
        "HttpRequestMethodConfig.Values.member.3": "PATCH",
        "HttpRequestMethodConfig.Values.member.4": "DELETE",
      },
    ]);
    expect((await run(maintenanceMain, ["on", ...base])).code).toBe(0);
    expect(mock.state.fenceRules.get(fenceRule)).toEqual([{ Field: "path-pattern", "PathPatternConfig.Values.member.1": "*" }]);
    expect((await run(maintenanceMain, ["off", ...base, "--json"])).stdout).toMatch(/"mode":"off","ok":true/);
    expect(mock.state.fenceRules.get(fenceRule)!.map((c) => c.Field)).toEqual(["http-request-method", "http-header"]);
  });

  it("rollback posts Slack-compatible JSON to --webhook", async () => {
    const { createServer } = await import("node:http");
    const bodies: Array<{ text: string }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        bodies.push(JSON.parse(body) as { text: string });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const result = await run(rollbackMain, [...base, "--webhook", `http://127.0.0.1:${port}/hook`]);
      expect(result.code).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies.every((b) => typeof b.text === "string" && b.text.startsWith("[bluegreen prod]"))).toBe(true);
    expect(bodies.some((b) => /rollback complete/.test(b.text))).toBe(true);
  });

  it("paired stacks: no parity result refuses the cutover in preflight; rollback fences, flips and lifts the fence", async () => {
    await writeTestConfig(join(dir, "Pulumi.prod.yaml"), (text) =>
      text.replace("mode: shared", "mode: paired").replace("type: canary\n      steps: [10, 100]", "type: all-at-once"),
    );
    await writeFile(join(dir, "outputs.json"), JSON.stringify({ ...outputs, databaseMode: "paired" }));
    const cutover = await run(cutoverMain, [...base, "--yes"]);
    expect(cutover.code).toBe(1);
    expect(cutover.stdout).toMatch(/preflight parity: FAILED/);
    expect(mock.calls.filter((c) => c.action === "ModifyListener" || c.action === "ModifyRule")).toEqual([]);

    // Green serves: the rollback fences writes, tries the green → blue catch-up (the mock has no
    // databases: it fails), flips anyway, lifts the fence and says what it could not check.
    mock.state.listeners.set(outputs.listenerArns[0]!, { weights: { blue: 0, green: 100 }, stickinessSeconds: null });
    mock.calls.length = 0;
    const rollback = await run(rollbackMain, base);
    expect(rollback.stdout).toMatch(/write fence writes: ok/);
    expect(rollback.stdout).toMatch(/green → blue replication is not healthy: flipping anyway/);
    expect(rollback.code).toBe(0);
    expect(mock.state.listeners.get(outputs.listenerArns[0]!)!.weights).toEqual({ blue: 100, green: 0 });
    expect(mock.state.fenceRules.get(outputs.fenceRuleArns[0]!)!.map((c) => c.Field)).toEqual(["http-request-method", "http-header"]);
    expect(mock.calls.filter((c) => c.action === "ModifyRule")).toHaveLength(2);

    const flip = await run(rollbackMain, [...base, "--plain-flip"]);
    expect(flip.code).toBe(0);
  });

  it("maintenance refuses while an operation holds the lock: the lock is its first call, the fence is not even read", async () => {
    mock.state.parameters.set("/bluegreen/bluegreen/prod/lock", JSON.stringify({ owner: "ana@ops-1 pid 42", since: 1, operation: "cutover" }));
    const result = await run(maintenanceMain, ["off", ...base]);
    // Exit 1, not 2: an AWS call (the lock read) was made; exit 2 promises none.
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cutover by ana@ops-1 pid 42 holds the lock/);
    expect(mock.calls.map((c) => c.action)).toEqual(["GetParameter"]);
    expect(modifyCalls()).toEqual([]);
  });
});

describe("status: replication in database.mode paired", () => {
  const syncStatusOf = (over: Partial<SyncStatus> = {}): SyncStatus => ({
    name: "bluegreen_blue_to_green",
    subscription: { exists: true, enabled: true, origin: "none" },
    workerRunning: true,
    workerPid: 4242,
    publication: { exists: true, tables: ["public.a", "public.b", "public.c", "public.d"] },
    tables: [],
    tablesReady: 3,
    tablesTotal: 4,
    lag: { bytes: 128, seconds: 0.4 },
    lastMessageAgeSeconds: 1,
    slot: null,
    syncSlots: [],
    errors: null,
    sourceLsn: "0/1000",
    healthy: false,
    problems: ["public.d: copying"],
    ...over,
  });
  const notSetUp = syncStatusOf({
    name: "bluegreen_green_to_blue",
    subscription: { exists: false, enabled: false, origin: null },
    workerRunning: false,
    workerPid: null,
    publication: { exists: false, tables: [] },
    tablesReady: 0,
    tablesTotal: 0,
    lag: { bytes: null, seconds: null },
    problems: ["no subscription bluegreen_green_to_blue on the target"],
  });
  const pairedOutputs = async () => {
    const green = "bluegreen-prod-db-green.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com:5432";
    await writeFile(
      join(dir, "outputs.json"),
      JSON.stringify({ ...outputs, databaseMode: "paired", databaseEndpoints: { ...(outputs.databaseEndpoints as object), green } }),
    );
  };

  it("shows each direction (running, lag, tables) in text and --json, read through the injected status function", async () => {
    await pairedOutputs();
    const asked: string[] = [];
    const hooks = {
      syncStatus: async (direction: "blue-to-green" | "green-to-blue") => {
        asked.push(direction);
        return direction === "blue-to-green" ? syncStatusOf() : notSetUp;
      },
    };
    const text = await run((argv, io) => statusMain(argv, io, hooks), base);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /replication\n {2}blue → green: running · lag 128 B, 0\.4 s · tables 3\/4 ready\n {4}public\.d: copying\n {2}green → blue: not set up/,
    );
    expect(asked.sort()).toEqual(["blue-to-green", "green-to-blue"]);

    const json = await run((argv, io) => statusMain(argv, io, hooks), [...base, "--json"]);
    const report = JSON.parse(json.stdout) as StatusReport;
    expect(report.replication!["blue-to-green"]).toEqual({
      ok: true,
      value: {
        name: "bluegreen_blue_to_green",
        running: true,
        enabled: true,
        lagBytes: 128,
        lagSeconds: 0.4,
        tablesReady: 3,
        tablesTotal: 4,
        healthy: false,
        problems: ["public.d: copying"],
      },
    });
    expect(report.replication!["green-to-blue"]).toEqual({ ok: true, value: null });
    expect(modifyCalls()).toEqual([]);
  });

  it("unreachable databases: the section says so, the other sections print, the exit code stays 0", async () => {
    await pairedOutputs();
    const hooks = {
      syncStatus: async (): Promise<SyncStatus> => {
        throw new UnreachableError("green database (app@green:5432/app): connect ECONNREFUSED 10.0.3.7:5432");
      },
    };
    const text = await run((argv, io) => statusMain(argv, io, hooks), base);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/blue → green: unreachable: green database .*ECONNREFUSED/);
    expect(text.stdout).toMatch(/green → blue: unreachable: /);
    expect(text.stdout).toMatch(/lock\n {2}free/);
    const json = JSON.parse((await run((argv, io) => statusMain(argv, io, hooks), [...base, "--json"])).stdout) as StatusReport;
    expect(json.replication!["blue-to-green"]).toMatchObject({ ok: false, unreachable: true });

    // A hung database is bounded too.
    const hung = { syncStatus: () => new Promise<SyncStatus>(() => undefined), replicationTimeoutMs: 50 };
    const slow = await run((argv, io) => statusMain(argv, io, hung), base);
    expect(slow.code).toBe(0);
    expect(slow.stdout).toMatch(/blue → green: unreachable: replication blue-to-green: no answer within 0 s/);
  });

  it("without injection: credentials it cannot read are an error in that section only", async () => {
    await pairedOutputs();
    const result = await run((argv, io) => statusMain(argv, io, { replicationTimeoutMs: 15_000 }), base);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/replication\n {2}blue → green: (unreachable|error): .*secret/);
  });

  it("shared mode: no replication section", async () => {
    const json = JSON.parse((await run(statusMain, [...base, "--json"])).stdout) as StatusReport;
    expect(json.replication).toBeNull();
    expect((await run(statusMain, base)).stdout).not.toMatch(/^replication$/m);
  });
});

describe("a corrupt journal is bad input", () => {
  it("JournalCorruptError maps to exit 2", () => {
    expect(exitCodeFor(new JournalCorruptError("phase", "must be a known phase"))).toBe(2);
  });

  it("cutover on a corrupt journal exits 2 and says what to do", async () => {
    mock.state.parameters.set("/bluegreen/bluegreen/prod/journal", JSON.stringify({ version: 1, phase: 42 }));
    const result = await run(cutoverMain, [...base, "--yes"]);
    expect(result.stderr).toMatch(/journal is corrupt/);
    expect(result.code).toBe(2);
    expect(mock.calls.filter((c) => c.action === "ModifyListener" || c.action === "ModifyRule")).toEqual([]);
  });
});
