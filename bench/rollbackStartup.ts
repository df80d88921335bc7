// `npm run bench:rollback`: how long `npm run rollback` takes from process start to traffic
// verified on blue, beside a bare SDK script that does only the flip (one ModifyListener, one
// DescribeListeners) in the same run, and the ratio between the two.
//
// A local HTTP server speaks just enough SSM (JSON 1.1), ELBv2 and RDS (query/XML) and CloudWatch
// (JSON 1.0) for the commands to run end to end; the child process reaches it through the SDK's
// own AWS_ENDPOINT_URL with fake credentials. For each run the figures are measured from the
// moment just before spawn() (node's own boot included): the arrival of the first request, the
// answer to the first read-back that shows blue only after a write ("verified"), and the exit.
// Runs alternate (bare, rollback, bare, ...) so machine load hits both alike. Prints figures;
// nothing here is asserted by a test.
//
// The mock is exported for the command-line tests (test/component/cli*.test.ts); `neverApply` makes it
// accept weight writes without applying them (a rollback that can never verify).

import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface MockCall {
  service: "ssm" | "elbv2" | "cloudwatch" | "rds";
  action: string;
  params: Record<string, unknown>;
  at: number;
}

export interface MockRoute {
  weights: { blue: number; green: number };
  stickinessSeconds: number | null;
}

export interface MockAwsState {
  targetGroupArns: { blue: string; green: string };
  listeners: Map<string, MockRoute>;
  rules: Map<string, MockRoute>;
  fenceRules: Map<string, Array<Record<string, string>>>;
  parameters: Map<string, string>;
  targetStates: { blue: string[]; green: string[] };
  alarms: Map<string, string>;
  /** Per color: [requests, 5xx, p95 s, p99 s]; empty = no datapoints. */
  metrics: { blue: number[]; green: number[] };
  /** Answer every call of these actions with throttling. */
  throttle: Set<string>;
  /** Accept ModifyListener / ModifyRule weight writes (200) without applying them. */
  neverApply: boolean;
  /** Per listener/rule ARN: accept that many more weight writes (200) without applying them (a lost write). */
  dropWrites: Map<string, number>;
}

export interface MockAws {
  url: string;
  state: MockAwsState;
  calls: MockCall[];
  firstRequestAt: () => number | null;
  /** When the first read-back showing every listener asked for at green 0 was answered, after a ModifyListener. */
  verifiedAt: () => number | null;
  reset: () => void;
  close: () => Promise<void>;
}

const ELB_NS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";

function xmlEscape(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function forwardXml(state: MockAwsState, route: MockRoute): string {
  const tuple = (arn: string, weight: number) => `<member><TargetGroupArn>${xmlEscape(arn)}</TargetGroupArn><Weight>${weight}</Weight></member>`;
  const stickiness =
    route.stickinessSeconds === null
      ? "<TargetGroupStickinessConfig><Enabled>false</Enabled></TargetGroupStickinessConfig>"
      : `<TargetGroupStickinessConfig><Enabled>true</Enabled><DurationSeconds>${route.stickinessSeconds}</DurationSeconds></TargetGroupStickinessConfig>`;
  return `<member><Type>forward</Type><Order>1</Order><ForwardConfig><TargetGroups>${tuple(state.targetGroupArns.blue, route.weights.blue)}${tuple(state.targetGroupArns.green, route.weights.green)}</TargetGroups>${stickiness}</ForwardConfig></member>`;
}

function routeFromParams(params: URLSearchParams, prefix: string, state: MockAwsState): MockRoute {
  const weights = { blue: 0, green: 0 };
  for (let i = 1; params.has(`${prefix}.member.1.ForwardConfig.TargetGroups.member.${i}.TargetGroupArn`); i++) {
    const arn = params.get(`${prefix}.member.1.ForwardConfig.TargetGroups.member.${i}.TargetGroupArn`);
    const weight = Number(params.get(`${prefix}.member.1.ForwardConfig.TargetGroups.member.${i}.Weight`) ?? "1");
    if (arn === state.targetGroupArns.blue) weights.blue = weight;
    if (arn === state.targetGroupArns.green) weights.green = weight;
  }
  const enabled = params.get(`${prefix}.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled`) === "true";
  const duration = params.get(`${prefix}.member.1.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds`);
  return { weights, stickinessSeconds: enabled && duration ? Number(duration) : null };
}

function conditionsFromParams(params: URLSearchParams): Array<Record<string, string>> {
  const conditions: Array<Record<string, string>> = [];
  for (let i = 1; params.has(`Conditions.member.${i}.Field`); i++) {
    const condition: Record<string, string> = {};
    for (const [key, value] of params) {
      if (key.startsWith(`Conditions.member.${i}.`)) condition[key.slice(`Conditions.member.${i}.`.length)] = value;
    }
    conditions.push(condition);
  }
  return conditions;
}

function conditionsXml(conditions: Array<Record<string, string>>): string {
  // Rebuild nested XML from flattened keys such as HttpRequestMethodConfig.Values.member.1
  const members = conditions.map((condition) => {
    const tree: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(condition)) {
      const parts = key.split(".");
      let node = tree;
      parts.forEach((part, index) => {
        if (index === parts.length - 1) node[part] = value;
        else node = (node[part] ??= {}) as Record<string, unknown>;
      });
    }
    const render = (node: unknown): string =>
      typeof node === "string"
        ? xmlEscape(node)
        : Object.entries(node as Record<string, unknown>)
            .map(([k, v]) =>
              k === "member"
                ? Object.values(v as Record<string, unknown>)
                    .map((m) => `<member>${render(m)}</member>`)
                    .join("")
                : `<${k}>${render(v)}</${k}>`,
            )
            .join("");
    return `<member>${render(tree)}</member>`;
  });
  return `<Conditions>${members.join("")}</Conditions>`;
}

function initialState(): MockAwsState {
  return {
    targetGroupArns: {
      blue: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/bluegreen-prod-blue/0123456789abcdef",
      green: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/bluegreen-prod-green/fedcba9876543210",
    },
    listeners: new Map(),
    rules: new Map(),
    fenceRules: new Map(),
    parameters: new Map(),
    targetStates: { blue: ["healthy", "healthy"], green: ["healthy", "healthy"] },
    alarms: new Map(),
    metrics: { blue: [], green: [] },
    throttle: new Set(),
    neverApply: false,
    dropWrites: new Map(),
  };
}

/** Whether this weight write to `arn` is one to accept and lose (counts it down). */
function dropped(state: MockAwsState, arn: string): boolean {
  const left = state.dropWrites.get(arn) ?? 0;
  if (left <= 0) return false;
  state.dropWrites.set(arn, left - 1);
  return true;
}

/** Start the mock on 127.0.0.1 (a free port). */
export async function startMockAws(): Promise<MockAws> {
  let state = initialState();
  const calls: MockCall[] = [];
  let first: number | null = null;
  let wroteAt: number | null = null;
  let verified: number | null = null;
  const now = () => performance.timeOrigin + performance.now();

  const handle = (req: IncomingMessage, body: string, res: ServerResponse) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const json = (status: number, value: unknown, type?: string) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1", ...(type ? { "x-amzn-errortype": type } : {}) });
      res.end(JSON.stringify(value));
    };
    if (target.startsWith("AmazonSSM.")) {
      const action = target.slice("AmazonSSM.".length);
      const input = JSON.parse(body || "{}") as { Name?: string; Value?: string; Overwrite?: boolean };
      calls.push({ service: "ssm", action, params: input, at: Date.now() });
      if (state.throttle.has(action)) return json(400, { __type: "ThrottlingException", message: "Rate exceeded" }, "ThrottlingException");
      const name = input.Name ?? "";
      if (action === "PutParameter") {
        if (state.parameters.has(name) && !input.Overwrite) return json(400, { __type: "ParameterAlreadyExists", message: "exists" }, "ParameterAlreadyExists");
        state.parameters.set(name, input.Value ?? "");
        return json(200, { Version: 1, Tier: "Standard" });
      }
      if (action === "GetParameter") {
        if (!state.parameters.has(name)) return json(400, { __type: "ParameterNotFound", message: "not found" }, "ParameterNotFound");
        return json(200, { Parameter: { Name: name, Type: "String", Value: state.parameters.get(name), Version: 1 } });
      }
      if (action === "DeleteParameter") {
        if (!state.parameters.delete(name)) return json(400, { __type: "ParameterNotFound", message: "not found" }, "ParameterNotFound");
        return json(200, {});
      }
      return json(400, { __type: "InvalidAction", message: action });
    }
    if (target.startsWith("GraniteServiceVersion20100801.")) {
      const action = target.slice("GraniteServiceVersion20100801.".length);
      const input = JSON.parse(body || "{}") as { AlarmNames?: string[]; MetricDataQueries?: Array<{ Id: string }> };
      calls.push({ service: "cloudwatch", action, params: input, at: Date.now() });
      res.setHeader("content-type", "application/x-amz-json-1.0");
      if (state.throttle.has(action)) return json(400, { __type: "Throttling", message: "Rate exceeded" }, "Throttling");
      if (action === "DescribeAlarms") {
        return json(200, {
          MetricAlarms: (input.AlarmNames ?? []).filter((n) => state.alarms.has(n)).map((n) => ({ AlarmName: n, StateValue: state.alarms.get(n) })),
          CompositeAlarms: [],
        });
      }
      if (action === "GetMetricData") {
        const index: Record<string, number> = { requests: 0, errors: 1, p95: 2, p99: 3 };
        return json(200, {
          MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
            const [kind, color] = q.Id.split("_") as [string, "blue" | "green"];
            // Queries it has no figure for (connection errors, slow counts, the load balancer's ELB 5xx) answer no datapoints.
            const values = (state.metrics as Record<string, number[] | undefined>)[color] ?? [];
            const at = index[kind];
            const known = values.length > 0 && at !== undefined;
            return { Id: q.Id, StatusCode: "Complete", Timestamps: known ? [Math.floor(Date.now() / 1000)] : [], Values: known ? [values[at]] : [] };
          }),
        });
      }
      return json(400, { __type: "InvalidAction", message: action });
    }
    const params = new URLSearchParams(body);
    const action = params.get("Action") ?? "";
    const service = params.get("Version") === "2014-10-31" ? "rds" : "elbv2";

    calls.push({ service, action, params: Object.fromEntries(params), at: Date.now() });
    const xml = (status: number, text: string) => {
      res.writeHead(status, { "content-type": "text/xml" });
      res.end(text);
    };
    const ok = (inner: string) =>
      xml(
        200,
        `<${action}Response xmlns="${ELB_NS}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>mock</RequestId></ResponseMetadata></${action}Response>`,
      );
    const error = (code: string, message: string) =>
      xml(
        400,
        `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>mock</RequestId></ErrorResponse>`,
      );
    if (state.throttle.has(action)) return error("Throttling", "Rate exceeded");
    switch (action) {
      case "ModifyListener": {
        const arn = params.get("ListenerArn") ?? "";
        if (!state.listeners.has(arn)) return error("ListenerNotFound", `listener ${arn} not found`);
        wroteAt ??= now();
        if (!state.neverApply && !dropped(state, arn)) state.listeners.set(arn, routeFromParams(params, "DefaultActions", state));
        return ok("<Listeners/>");
      }
      case "ModifyRule": {
        const arn = params.get("RuleArn") ?? "";
        if (params.has("Conditions.member.1.Field")) {
          if (!state.fenceRules.has(arn)) return error("RuleNotFound", `rule ${arn} not found`);
          state.fenceRules.set(arn, conditionsFromParams(params));
          return ok("<Rules/>");
        }
        if (!state.rules.has(arn)) return error("RuleNotFound", `rule ${arn} not found`);
        if (!state.neverApply && !dropped(state, arn)) state.rules.set(arn, routeFromParams(params, "Actions", state));
        return ok("<Rules/>");
      }
      case "DescribeListeners": {
        const members: string[] = [];
        for (let i = 1; params.has(`ListenerArns.member.${i}`); i++) {
          const arn = params.get(`ListenerArns.member.${i}`)!;
          const route = state.listeners.get(arn);
          if (!route) return error("ListenerNotFound", `listener ${arn} not found`);
          members.push(`<member><ListenerArn>${xmlEscape(arn)}</ListenerArn><DefaultActions>${forwardXml(state, route)}</DefaultActions></member>`);
        }
        const asked = [...params.entries()].filter(([key]) => key.startsWith("ListenerArns.member.")).map(([, arn]) => state.listeners.get(arn)!);
        if (wroteAt !== null && verified === null && asked.every((route) => route.weights.green === 0 && route.weights.blue > 0)) verified = now();
        return ok(`<Listeners>${members.join("")}</Listeners>`);
      }
      case "DescribeRules": {
        const members: string[] = [];
        for (let i = 1; params.has(`RuleArns.member.${i}`); i++) {
          const arn = params.get(`RuleArns.member.${i}`)!;
          const route = state.rules.get(arn);
          const fence = state.fenceRules.get(arn);
          if (route) members.push(`<member><RuleArn>${xmlEscape(arn)}</RuleArn><Actions>${forwardXml(state, route)}</Actions></member>`);
          else if (fence) members.push(`<member><RuleArn>${xmlEscape(arn)}</RuleArn>${conditionsXml(fence)}</member>`);
          else return error("RuleNotFound", `rule ${arn} not found`);
        }
        return ok(`<Rules>${members.join("")}</Rules>`);
      }
      case "DescribeTargetHealth": {
        const arn = params.get("TargetGroupArn");
        const color = arn === state.targetGroupArns.blue ? "blue" : arn === state.targetGroupArns.green ? "green" : null;
        if (!color) return error("TargetGroupNotFound", `target group ${arn} not found`);
        const members = state.targetStates[color]
          .map((s, i) => `<member><Target><Id>i-${color}${i}</Id><Port>8080</Port></Target><TargetHealth><State>${s}</State></TargetHealth></member>`)
          .join("");
        return ok(`<TargetHealthDescriptions>${members}</TargetHealthDescriptions>`);
      }
      case "DescribeAutoScalingGroups": {
        // Auto Scaling (rollout.capacity): a color's group holds one InService instance per target.
        const name = params.get("AutoScalingGroupNames.member.1") ?? "";
        const color = /-green-/.test(name) ? "green" : /-blue-/.test(name) ? "blue" : null;
        if (!color) return ok("<AutoScalingGroups/>");
        const size = state.targetStates[color].length;
        const instances = state.targetStates[color]
          .map((_, i) => `<member><InstanceId>i-${color}${i}</InstanceId><LifecycleState>InService</LifecycleState></member>`)
          .join("");
        return ok(
          `<AutoScalingGroups><member><AutoScalingGroupName>${xmlEscape(name)}</AutoScalingGroupName><MinSize>1</MinSize><MaxSize>10</MaxSize>` +
            `<DesiredCapacity>${size}</DesiredCapacity><Instances>${instances}</Instances></member></AutoScalingGroups>`,
        );
      }
      case "CreateDBSnapshot":
        return ok(
          `<DBSnapshot><DBSnapshotIdentifier>${xmlEscape(params.get("DBSnapshotIdentifier") ?? "")}</DBSnapshotIdentifier><Status>creating</Status></DBSnapshot>`,
        );
      case "DescribeDBSnapshots":
        return ok(
          `<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>${xmlEscape(params.get("DBSnapshotIdentifier") ?? "")}</DBSnapshotIdentifier><Status>available</Status></DBSnapshot></DBSnapshots>`,
        );
      default:
        return error("InvalidAction", `mock does not implement ${action}`);
    }
  };

  const server: Server = createServer((req, res) => {
    first ??= performance.timeOrigin + performance.now();
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      try {
        handle(req, body, res);
      } catch (error) {
        res.writeHead(500);
        res.end(String(error));
      }
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get state() {
      return state;
    },
    calls,
    firstRequestAt: () => first,
    verifiedAt: () => verified,
    reset: () => {
      state = initialState();
      calls.length = 0;
      first = null;
      wroteAt = null;
      verified = null;
    },
    close: () => new Promise<void>((resolveClose) => server.close(() => resolveClose())),
  } as MockAws;
}

/** Stack outputs pointing at the mock's routes, from the example file. */
export function seedFromOutputs(
  mock: MockAws,
  outputs: { listenerArns: string[]; fenceRuleArns: string[]; targetGroupArns: { blue: string; green: string } },
  weights = { blue: 0, green: 100 },
): void {
  mock.state.targetGroupArns = { ...outputs.targetGroupArns };
  for (const arn of outputs.listenerArns) mock.state.listeners.set(arn, { weights: { ...weights }, stickinessSeconds: null });
  for (const arn of outputs.fenceRuleArns) {
    mock.state.fenceRules.set(arn, [
      {
        Field: "http-request-method",
        "HttpRequestMethodConfig.Values.member.1": "POST",
        "HttpRequestMethodConfig.Values.member.2": "PUT",
        "HttpRequestMethodConfig.Values.member.3": "PATCH",
        "HttpRequestMethodConfig.Values.member.4": "DELETE",
      },
      { Field: "http-header", "HttpHeaderConfig.HttpHeaderName": "x-bluegreen-fence", "HttpHeaderConfig.Values.member.1": "armed" },
    ]);
  }
}

/** Environment for a child process that talks to the mock through the SDK's own variables. */
export function mockEnv(mock: MockAws, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    AWS_ENDPOINT_URL: mock.url,
    AWS_ACCESS_KEY_ID: "AKIAMOCKMOCKMOCKMOCK",
    AWS_SECRET_ACCESS_KEY: "mock-secret-not-real",
    AWS_REGION: "eu-west-1",
    AWS_MAX_ATTEMPTS: "1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    NO_COLOR: "1",
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const HELP = `Usage: npm run bench:rollback [-- --help]

Runs \`npm run rollback\` (dist/scripts/rollback.js) and a bare SDK script that only flips the
listener (dist/bench/bareSdkRollback.js) against a local mock AWS endpoint, alternately, and prints
per run and as medians: process start → first API call, → traffic verified on blue, → exit; and
the ratio rollback / bare SDK (start → verified).

Environment: BENCH_RUNS (default 9); BENCH_COMPARE=path/to/another/dist/scripts/rollback.js adds a
third series (an older build, say) in the same loop, with its ratio. Build first: npm run build.
`;

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(HELP);
    return;
  }
  const unknown = argv.filter((arg) => arg !== "--");
  if (unknown.length > 0) {
    process.stderr.write(`error: unknown argument ${unknown[0]} (see --help)\n`);
    process.exitCode = 2;
    return;
  }
  // npm run sets the working directory to the package root.
  const root = process.cwd();
  const entry = join(root, "dist/scripts/rollback.js");
  const bareEntry = join(root, "dist/bench/bareSdkRollback.js");
  const runs = Number(process.env.BENCH_RUNS ?? 9);
  const { readFile } = await import("node:fs/promises");
  const outputs = JSON.parse(await readFile(join(root, "examples/stack-outputs.prod.json"), "utf8"));
  const dir = await mkdtemp(join(tmpdir(), "bluegreen-bench-"));
  const outputsFile = join(dir, "outputs.json");
  await writeFile(outputsFile, JSON.stringify(outputs));
  // The example config as an operator fills it in (the committed one is refused for its placeholders).
  const { filledExampleConfig } = await import("../scripts/cli/exampleConfig.js");
  await writeFile(join(dir, "Pulumi.prod.yaml"), filledExampleConfig(root));
  const mock = await startMockAws();
  const compare = process.env.BENCH_COMPARE;
  // Older builds read ruleArns (removed from the outputs since): give them an empty list.
  const compareOutputs = join(dir, "outputs-compare.json");
  await writeFile(compareOutputs, JSON.stringify({ ruleArns: [], ...outputs }));
  const series = () => ({ first: [] as number[], verified: [] as number[], exit: [] as number[] });
  const figures = { rollback: series(), bare: series(), compare: series() };
  const spawnOnce = async (args: string[]) => {
    mock.reset();
    seedFromOutputs(mock, outputs);
    const started = performance.timeOrigin + performance.now();
    return new Promise<{ code: number | null; first: number | null; verified: number | null; ended: number; started: number; stderr: string }>((resolveRun) => {
      const child = spawn(process.execPath, args, { cwd: dir, env: mockEnv(mock), stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("exit", (code) =>
        resolveRun({ code, first: mock.firstRequestAt(), verified: mock.verifiedAt(), ended: performance.timeOrigin + performance.now(), started, stderr }),
      );
    });
  };
  const record = (kind: "rollback" | "bare" | "compare", result: Awaited<ReturnType<typeof spawnOnce>>, i: number) => {
    if (result.code !== 0 || result.first === null || result.verified === null) {
      process.stderr.write(result.stderr);
      throw new Error(
        `${kind} run ${i + 1}: exit ${result.code}, ${result.first === null ? "no request arrived" : result.verified === null ? "never verified" : "see stderr"}`,
      );
    }
    figures[kind].first.push(result.first - result.started);
    figures[kind].verified.push(result.verified - result.started);
    figures[kind].exit.push(result.ended - result.started);
  };
  console.log(`rollback vs a bare SDK flip: ${runs} runs each against a local mock AWS endpoint (${mock.url})`);
  try {
    for (let i = 0; i < runs; i++) {
      record("bare", await spawnOnce([bareEntry, outputsFile]), i);
      record("rollback", await spawnOnce([entry, "--stack", "prod", "--outputs", outputsFile, "--reports", join(dir, "reports")]), i);
      const calls = mock.calls.length;
      if (compare) record("compare", await spawnOnce([compare, "--stack", "prod", "--outputs", compareOutputs, "--reports", join(dir, "reports")]), i);
      const r = figures.rollback;
      const b = figures.bare;
      const c = figures.compare;
      console.log(
        `  run ${i + 1}: rollback first call ${r.first.at(-1)!.toFixed(1)} ms, verified ${r.verified.at(-1)!.toFixed(1)} ms, exit ${r.exit.at(-1)!.toFixed(1)} ms (${calls} calls) | ` +
          `bare SDK first call ${b.first.at(-1)!.toFixed(1)} ms, verified ${b.verified.at(-1)!.toFixed(1)} ms` +
          (compare ? ` | compare verified ${c.verified.at(-1)!.toFixed(1)} ms` : ""),
      );
    }
  } finally {
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  }
  const m = (values: number[]) => median(values).toFixed(1);
  console.log(
    `median rollback: first API call ${m(figures.rollback.first)} ms, verified on blue ${m(figures.rollback.verified)} ms, exit ${m(figures.rollback.exit)} ms after spawn`,
  );
  console.log(
    `median bare SDK: first API call ${m(figures.bare.first)} ms, verified on blue ${m(figures.bare.verified)} ms, exit ${m(figures.bare.exit)} ms after spawn`,
  );
  console.log(`ratio (process start → verified): rollback / bare SDK = ${(median(figures.rollback.verified) / median(figures.bare.verified)).toFixed(2)}×`);
  if (compare) {
    console.log(
      `median ${compare}: first API call ${m(figures.compare.first)} ms, verified on blue ${m(figures.compare.verified)} ms, exit ${m(figures.compare.exit)} ms after spawn`,
    );
    console.log(`ratio (process start → verified): compare / bare SDK = ${(median(figures.compare.verified) / median(figures.bare.verified)).toFixed(2)}×`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
