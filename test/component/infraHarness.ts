// Runs the Pulumi program (infra/index.ts) under pulumi.runtime.setMocks, without AWS, and
// records every resource it declares. One fresh module registry per scenario, so each import
// re-runs the program against that scenario's config.
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";

export interface RecordedResource {
  type: string;
  /** The id the mock gave it (what other resources receive as `...Id` inputs). */
  id: string;
  name: string;
  inputs: Record<string, any>;
  custom: boolean;
  state: Record<string, any>;
  /** URN of the parent resource ("" for none). */
  parent: string;
  ignoreChanges: string[];
  protect: boolean;
  retainOnDelete: boolean;
}

export interface ProgramRun {
  resources: RecordedResource[];
  /** Every export of infra/index.ts, Outputs resolved (deeply). */
  outputs: Record<string, any>;
  /** URNs of the component resources that called registerOutputs. */
  registeredOutputs: Set<string>;
  /** Data-source invokes the program made, in order. */
  invokes: { token: string; inputs: Record<string, any> }[];
  ofType(type: string): RecordedResource[];
  one(type: string, name?: string): RecordedResource;
}

// The example stack configs are plain data (test/support/stackConfigs.ts); re-exported for the infra tests.
export { EXISTING_NETWORK, greenDisabledConfig, pairedConfig, prodConfigMap } from "../support/stackConfigs.js";

let counter = 0;
const shortId = () => (++counter).toString(16).padStart(16, "0");

/** Synthesizes what AWS would return for the outputs the program uses. */
function synthesize(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  const id = `${name}-${shortId()}`;
  const arnBase = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}`;
  switch (type) {
    case "aws:lb/loadBalancer:LoadBalancer": {
      const suffix = `app/${name}/${shortId()}`;
      return { id, state: { ...inputs, arn: `${arnBase}:loadbalancer/${suffix}`, arnSuffix: suffix, dnsName: `${name}-123.${REGION}.elb.amazonaws.com` } };
    }
    case "aws:lb/targetGroup:TargetGroup": {
      const tgName = `${name}-${shortId().slice(-7)}`;
      const suffix = `targetgroup/${tgName}/${shortId()}`;
      return { id, state: { ...inputs, name: tgName, arn: `${arnBase}:${suffix}`, arnSuffix: suffix } };
    }
    case "aws:lb/listener:Listener":
      return { id, state: { ...inputs, arn: `${arnBase}:listener/app/web/${shortId()}/${shortId()}` } };
    case "aws:lb/listenerRule:ListenerRule":
      return { id, state: { ...inputs, arn: `${arnBase}:listener-rule/app/web/${shortId()}/${shortId()}/${shortId()}` } };
    case "aws:rds/instance:Instance":
      return {
        id,
        state: {
          ...inputs,
          identifier: name,
          address: `${name}.abc.${REGION}.rds.amazonaws.com`,
          port: 5432,
          endpoint: `${name}.abc.${REGION}.rds.amazonaws.com:5432`,
          masterUserSecrets: [{ secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-${name}`, secretStatus: "active", kmsKeyId: "k" }],
        },
      };
    case "aws:autoscaling/group:Group":
      return { id, state: { ...inputs, name: `${name}-${shortId().slice(-7)}`, arn: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:asg/${name}` } };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { id, state: { ...inputs, latestVersion: 1, arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:launch-template/${id}` } };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id, state: { ...inputs, arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${inputs.name ?? id}` } };
    case "aws:cloudwatch/compositeAlarm:CompositeAlarm":
      return { id, state: { ...inputs, arn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${inputs.alarmName ?? id}` } };
    case "aws:lambda/function:Function":
      return { id, state: { ...inputs, arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${inputs.name ?? id}` } };
    case "aws:sfn/stateMachine:StateMachine":
      return { id, state: { ...inputs, arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${inputs.name ?? id}` } };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return { id, state: { ...inputs, name: inputs.name ?? id, arn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${inputs.name ?? id}` } };
    case "random:index/randomId:RandomId":
      // 4 bytes → 8 hex digits, different per resource (as the provider's would be).
      return { id, state: { ...inputs, hex: shortId().slice(-8), b64Url: "mock" } };
    case "random:index/randomPassword:RandomPassword":
      return { id, state: { ...inputs, result: `mockpassword${shortId()}` } };
    case "aws:secretsmanager/secret:Secret":
      return { id, state: { ...inputs, arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${shortId().slice(-6)}` } };
    case "aws:ssm/parameter:Parameter":
      return { id: inputs.name ?? id, state: { ...inputs, arn: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${inputs.name}` } };
    default:
      return { id, state: { ...inputs, name: inputs.name ?? id, arn: `arn:aws:mock:${REGION}:${ACCOUNT}:${type}/${id}` } };
  }
}

/** Resolves an Output (or a structure holding Outputs) to its plain value. */
export function resolve<T>(value: T): Promise<pulumi.Unwrap<T>> {
  return new Promise((done) => pulumi.output(value).apply((plain) => done(plain as pulumi.Unwrap<T>)));
}

export interface RunOptions {
  /** SSM parameters that exist in the mocked account (name → value), e.g. the weights or the lock. */
  parameters?: Record<string, string>;
}

/**
 * Runs infra/index.ts against `configMap` (Pulumi config keys → values; objects are passed as
 * JSON strings, as the Pulumi CLI does).
 */
export async function runProgram(configMap: Record<string, unknown>, stack = "test", runOptions: RunOptions = {}): Promise<ProgramRun> {
  const parameters = runOptions.parameters ?? {};
  const invokes: ProgramRun["invokes"] = [];
  const resources: RecordedResource[] = [];
  const options = new Map<string, { parent: string; ignoreChanges: string[]; protect: boolean; retainOnDelete: boolean }>();
  const registeredOutputs = new Set<string>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const result = synthesize(args.type, args.name, args.inputs);
        const recorded = options.get(`${args.type}::${args.name}`) ?? { parent: "", ignoreChanges: [], protect: false, retainOnDelete: false };
        resources.push({ type: args.type, id: result.id, name: args.name, inputs: args.inputs, custom: args.custom ?? true, state: result.state, ...recorded });
        return result;
      },
      call(args: pulumi.runtime.MockCallArgs) {
        invokes.push({ token: args.token, inputs: args.inputs });
        // The one data source the program reads: the stack's SSM hierarchy (infra/liveWeights.ts).
        // Like SSM, a path with nothing under it answers with empty lists, never an error.
        if (args.token === "aws:ssm/getParametersByPath:getParametersByPath") {
          const path = String(args.inputs.path);
          const names = Object.keys(parameters).filter((name) => name.startsWith(`${path}/`) && !name.slice(path.length + 1).includes("/"));
          return {
            id: path,
            path,
            names,
            values: names.map((name) => parameters[name]),
            types: names.map(() => "String"),
            arns: names.map((name) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`),
          };
        }
        throw new Error(`unexpected invoke ${args.token}: the program reads no other AWS data source`);
      },
    },
    "bluegreen",
    stack,
    false,
  );
  // MockResourceArgs carries no resource options; the mock monitor's request does. Record the
  // parent and ignoreChanges of every registration, and which components registered outputs.
  const monitor = pulumi.runtime.getMonitor() as any;
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request: any, callback: unknown) => {
    options.set(`${request.getType()}::${request.getName()}`, {
      parent: request.getParent(),
      ignoreChanges: request.getIgnorechangesList(),
      protect: request.getProtect() === true,
      retainOnDelete: request.getRetainondelete() === true,
    });
    return registerResource(request, callback);
  };
  const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (request: any, callback: unknown) => {
    registeredOutputs.add(request.getUrn());
    return registerResourceOutputs(request, callback);
  };
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(configMap).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)])),
  );
  vi.resetModules();
  const program: Record<string, unknown> = await import("../../infra/index.js");
  const outputs: Record<string, any> = {};
  for (const [key, value] of Object.entries(program)) outputs[key] = await resolve(value);
  // Let registrations that no output depends on finish too.
  await new Promise((done) => setTimeout(done, 50));
  const ofType = (type: string) => resources.filter((resource) => resource.type === type);
  return {
    resources,
    outputs,
    registeredOutputs,
    invokes,
    ofType,
    one(type, name) {
      const matches = ofType(type).filter((resource) => name === undefined || resource.name === name);
      if (matches.length !== 1)
        throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}: ${matches.map((r) => r.name).join(", ")}`);
      return matches[0]!;
    },
  };
}
