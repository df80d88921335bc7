// The stack outputs: the contract between the Pulumi program (infra/index.ts exports them) and
// the scripts (they read them with `pulumi stack output --json`). One type and one set of field
// rules, and one parser over them: the full check for cutover, status and maintenance, the
// fields rollback needs, and the rules the guard's environment and the database connections
// reuse for the same fields. Hand-written and dependency-free: `npm run rollback` parses its
// outputs on its start-up path, where zod would cost ~50 ms.

import { COLORS, type Color } from "./colors.js";
import { UsageError } from "./errors.js";

export type DatabaseModeOutput = "shared" | "paired";

export interface StackOutputs {
  /** The Pulumi project and stack the outputs belong to; null in outputs of older stacks. */
  pulumiProject: string | null;
  pulumiStack: string | null;
  region: string;
  databaseMode: DatabaseModeOutput;
  albArn: string;
  albDnsName: string;
  albArnSuffix: string;
  listenerArns: string[];
  testRuleArns: Record<Color, string>;
  fenceRuleArns: string[];
  targetGroupArns: Record<Color, string>;
  targetGroupArnSuffixes: Record<Color, string>;
  targetGroupNames: Record<Color, string>;
  asgNames: Record<Color, string | null>;
  databaseEndpoints: Record<Color, string | null>;
  databaseSecretArns: Record<Color, string | null>;
  databaseInstanceIds: Record<Color, string | null>;
  alarmNames: string[];
  alarmNamesByColor: Record<Color, string[]>;
  stickinessSeconds: number | null;
  testHeader: string;
  /**
   * The stack's rollout state machine (Step Functions) when `rollout.orchestrator` is
   * "stepfunctions"; null for the local orchestrator (the default).
   */
  rolloutStateMachineArn: string | null;
  /** The release (waves across stacks) state machine, when this stack hosts it; else null. */
  releaseStateMachineArn: string | null;
  /**
   * The database every color's application uses (config database.databaseName as deployed): the
   * one source status, cutover, rollback, parity, sync and migrate take it from. null in outputs
   * of stacks deployed before it was exported: a paired cutover then refuses (run `pulumi up`),
   * and a rollback goes on with a warning (see app/rollback.ts), never silently.
   */
  databaseName: string | null;
  /** The live weights' SSM parameter (`/bluegreen/<project>/<stack>/weights`); null in older outputs. Must be this stack's. */
  weightsParameterName: string | null;
}

/** What `rollback` needs: routes, target groups, stickiness, region, database mode, fence rules. */
export type RollbackOutputs = Pick<
  StackOutputs,
  "pulumiProject" | "pulumiStack" | "region" | "databaseMode" | "listenerArns" | "targetGroupArns" | "stickinessSeconds" | "fenceRuleArns"
> &
  Partial<Pick<StackOutputs, "asgNames">>;

// --- the rules, one per kind of value --------------------------------------------------------

/**
 * A Pulumi name part (organization, project, stack): letters, digits, _ . -, starting with a
 * letter, a digit or _ (so never "." or "..": a stack name also names files and SSM parameters).
 */
export const PULUMI_NAME_PART = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}";
export const PULUMI_NAME = new RegExp(`^${PULUMI_NAME_PART}$`);
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
export const ALB_ARN_SUFFIX = /^app\/[^/]+\/[0-9a-f]+$/;
export const TARGET_GROUP_ARN_SUFFIX = /^targetgroup\/[^/]+\/[0-9a-f]+$/;
export const MAX_STICKINESS_OUTPUT_SECONDS = 604_800;

/** An ARN of one AWS service ("elasticloadbalancing", "secretsmanager"), any partition and region. */
export function isArnOf(service: string, value: unknown): value is string {
  return typeof value === "string" && new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:.+`).test(value);
}
export const isElbArn = (value: unknown): value is string => isArnOf("elasticloadbalancing", value);
export const isSecretArn = (value: unknown): value is string => isArnOf("secretsmanager", value);
export const isStateMachineArn = (value: unknown): value is string => isArnOf("states", value) && /:stateMachine:/.test(value);

/** One value's rule: null when it holds, else what it must be. */
type Rule = (value: unknown) => string | null;

const rule =
  (holds: (value: unknown) => boolean, message: string): Rule =>
  (value) =>
    holds(value) ? null : message;
const nonEmptyString = (value: unknown) => typeof value === "string" && value.length > 0;
const nullable =
  (inner: Rule): Rule =>
  (value) =>
    value === null ? null : inner(value);

const elbArn = rule(isElbArn, "must be an elasticloadbalancing ARN");
const secretArn = rule(isSecretArn, "must be an secretsmanager ARN");
const notEmpty = rule(nonEmptyString, "must not be empty");
const stateMachineArn = rule(isStateMachineArn, "must be a Step Functions state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)");
const pulumiName = rule((v) => typeof v === "string" && PULUMI_NAME.test(v), "must be a Pulumi name (letters, digits, _ . -)");

/** How a field is checked: a single value, a list of values, or a value per color. */
type FieldRule =
  { kind: "one"; rule: Rule; optional?: "null" } | { kind: "list"; rule: Rule } | { kind: "perColor"; rule: Rule } | { kind: "perColorList"; rule: Rule };

const FIELD_RULES: Record<keyof StackOutputs, FieldRule> = {
  pulumiProject: { kind: "one", rule: nullable(pulumiName), optional: "null" },
  pulumiStack: { kind: "one", rule: nullable(pulumiName), optional: "null" },
  region: { kind: "one", rule: rule((v) => typeof v === "string" && AWS_REGION.test(v), "must be an AWS region such as eu-west-1") },
  databaseMode: { kind: "one", rule: rule((v) => v === "shared" || v === "paired", 'must be "shared" or "paired"') },
  albArn: { kind: "one", rule: elbArn },
  albDnsName: { kind: "one", rule: notEmpty },
  albArnSuffix: { kind: "one", rule: rule((v) => typeof v === "string" && ALB_ARN_SUFFIX.test(v), 'must be the ALB ARN suffix "app/<name>/<id>"') },
  listenerArns: { kind: "list", rule: elbArn },
  testRuleArns: { kind: "perColor", rule: elbArn },
  fenceRuleArns: { kind: "list", rule: elbArn },
  targetGroupArns: { kind: "perColor", rule: elbArn },
  targetGroupArnSuffixes: {
    kind: "perColor",
    rule: rule((v) => typeof v === "string" && TARGET_GROUP_ARN_SUFFIX.test(v), 'must be a target group ARN suffix "targetgroup/<name>/<id>"'),
  },
  targetGroupNames: { kind: "perColor", rule: notEmpty },
  asgNames: { kind: "perColor", rule: nullable(notEmpty) },
  databaseEndpoints: { kind: "perColor", rule: nullable(notEmpty) },
  databaseSecretArns: { kind: "perColor", rule: nullable(secretArn) },
  databaseInstanceIds: { kind: "perColor", rule: nullable(notEmpty) },
  alarmNames: { kind: "list", rule: notEmpty },
  alarmNamesByColor: { kind: "perColorList", rule: notEmpty },
  stickinessSeconds: {
    kind: "one",
    rule: nullable(
      rule(
        (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_STICKINESS_OUTPUT_SECONDS,
        `must be null or an integer 1..${MAX_STICKINESS_OUTPUT_SECONDS}`,
      ),
    ),
  },
  testHeader: { kind: "one", rule: notEmpty },
  rolloutStateMachineArn: { kind: "one", rule: nullable(stateMachineArn), optional: "null" },
  releaseStateMachineArn: { kind: "one", rule: nullable(stateMachineArn), optional: "null" },
  databaseName: { kind: "one", rule: nullable(notEmpty), optional: "null" },
  weightsParameterName: {
    kind: "one",
    rule: nullable(rule((v) => typeof v === "string" && v.startsWith("/bluegreen/"), "must be an SSM parameter name /bluegreen/<project>/<stack>/weights")),
    optional: "null",
  },
};

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

function checkList(path: string, value: unknown, each: Rule, problems: string[]): void {
  if (!Array.isArray(value)) {
    problems.push(`${path}: must be an array`);
    return;
  }
  value.forEach((entry, i) => {
    const broken = each(entry);
    if (broken) problems.push(`${path}.${i}: ${entry === undefined ? "is missing" : broken}`);
  });
}

/** The problems of one field, each "path: rule"; an absent optional identity field is no problem. */
function checkField(key: keyof StackOutputs, value: unknown, problems: string[]): void {
  const field = FIELD_RULES[key];
  if (value === undefined && !(field.kind === "one" && field.optional === "null")) {
    problems.push(`${key}: is missing`);
    return;
  }
  if (field.kind === "one") {
    const broken = field.rule(value ?? null);
    if (broken) problems.push(`${key}: ${broken}`);
    return;
  }
  if (field.kind === "list") return checkList(key, value, field.rule, problems);
  if (!isRecord(value)) {
    problems.push(`${key}: must be an object {"blue": ..., "green": ...}`);
    return;
  }
  for (const color of COLORS) {
    const path = `${key}.${color}`;
    if (field.kind === "perColorList") checkList(path, value[color], field.rule, problems);
    else if (value[color] === undefined) problems.push(`${path}: is missing`);
    else {
      const broken = field.rule(value[color]);
      if (broken) problems.push(`${path}: ${broken}`);
    }
  }
}

/**
 * Check the named fields of raw outputs against the contract; every problem as "path: rule",
 * in the order of `keys`. The one validator every reader of the outputs goes through.
 */
export function outputProblems(raw: unknown, keys: readonly (keyof StackOutputs)[]): string[] {
  if (!isRecord(raw)) return ["(root): must be a JSON object (the output of `pulumi stack output --json`)"];
  const problems: string[] = [];
  for (const key of keys) checkField(key, raw[key], problems);
  // A listener or fence rule named twice would be written twice and counted twice in the read-back.
  for (const key of ["listenerArns", "fenceRuleArns"] as const) {
    const list = raw[key];
    if (!keys.includes(key) || !Array.isArray(list)) continue;
    const seen = new Set<unknown>();
    for (const arn of list) {
      if (seen.has(arn)) {
        problems.push(`${key}: ${String(arn)} is listed twice: each ARN must appear once`);
        break;
      }
      seen.add(arn);
    }
  }
  problems.push(...regionContradictions(raw, keys));
  const project = raw.pulumiProject ?? null;
  const stack = raw.pulumiStack ?? null;
  if (keys.includes("pulumiProject") && keys.includes("pulumiStack") && (project === null) !== (stack === null)) {
    problems.push("pulumiProject, pulumiStack: come together (one of them is missing)");
  }
  problems.push(...foreignWeightsParameter(raw, keys));
  return problems;
}

/**
 * The weights parameter must be the outputs' own stack's: outputs pasted together from two stacks
 * (or projects) would have `pulumi up` read one stack's weights while the scripts write another's.
 */
function foreignWeightsParameter(raw: Record<string, unknown>, keys: readonly (keyof StackOutputs)[]): string[] {
  const { pulumiProject: project, pulumiStack: stack, weightsParameterName: name } = raw;
  if (!keys.includes("weightsParameterName") || typeof name !== "string" || typeof project !== "string" || typeof stack !== "string") return [];
  const own = `/bluegreen/${project}/${stack}/weights`;
  return name === own ? [] : [`weightsParameterName: ${name} belongs to another project or stack than pulumiProject/pulumiStack (${project}/${stack}: ${own})`];
}

/** The region an ARN names (its fourth field), or null for a value that is not an ARN. */
const arnRegion = (value: unknown): string | null => (typeof value === "string" && value.startsWith("arn:") ? (value.split(":")[3] ?? null) : null);

/**
 * Every regional ARN must name the outputs' region: the scripts call one region's endpoints, so an
 * ARN of another region (outputs pasted together from two stacks) would be "not found" halfway through.
 */
function regionContradictions(raw: Record<string, unknown>, keys: readonly (keyof StackOutputs)[]): string[] {
  const region = raw.region;
  if (!keys.includes("region") || typeof region !== "string") return [];
  const problems: string[] = [];
  for (const key of keys) {
    const value = raw[key];
    const values = Array.isArray(value) ? value : isRecord(value) ? COLORS.flatMap((color) => [value[color]].flat()) : [value];
    const other = values.find((v) => {
      const named = arnRegion(v);
      return named !== null && named !== "" && named !== region;
    });
    if (other !== undefined)
      problems.push(`${key}: ${String(other)} is in region ${arnRegion(other)}, but region is ${region}: one stack's outputs name one region`);
  }
  return problems;
}

const ALL_KEYS = Object.keys(FIELD_RULES) as (keyof StackOutputs)[];
const ROLLBACK_KEYS = ["pulumiProject", "pulumiStack", "region", "databaseMode", "listenerArns", "targetGroupArns", "stickinessSeconds"] as const;

function refuse(source: string, who: string, problems: readonly string[]): never {
  throw new UsageError(
    `stack outputs from ${source} are not what ${who} needs:\n${problems
      .slice(0, 8)
      .map((p) => `  ${p}`)
      .join("\n")}`,
  );
}

/** Every output checked. Throws UsageError (exit 2) naming each path and its rule. */
export function parseStackOutputs(raw: unknown, source: string): StackOutputs {
  const problems = outputProblems(raw, ALL_KEYS);
  if (problems.length > 0) refuse(source, "the scripts", problems);
  const outputs = raw as Record<string, unknown>;
  if ((outputs.listenerArns as string[]).length === 0)
    throw new UsageError(`stack outputs from ${source}: listenerArns is empty: nothing routes production traffic`);
  return {
    ...(outputs as unknown as StackOutputs),
    pulumiProject: (outputs.pulumiProject as string | undefined) ?? null,
    pulumiStack: (outputs.pulumiStack as string | undefined) ?? null,
    rolloutStateMachineArn: (outputs.rolloutStateMachineArn as string | undefined) ?? null,
    releaseStateMachineArn: (outputs.releaseStateMachineArn as string | undefined) ?? null,
    databaseName: (outputs.databaseName as string | undefined) ?? null,
    weightsParameterName: (outputs.weightsParameterName as string | undefined) ?? null,
  };
}

/**
 * The fields rollback uses, checked by the same rules; everything else is ignored, so a rollback
 * is never refused over an output it does not need. fenceRuleArns may be absent (older stacks);
 * asgNames, needed only to scale blue back after a scale-down, is taken when usable and never refused.
 */
export function parseRollbackOutputs(raw: unknown, source: string): RollbackOutputs {
  const o = isRecord(raw) ? raw : {};
  const keys: (keyof StackOutputs)[] = [...ROLLBACK_KEYS, ...(o.fenceRuleArns === undefined ? [] : ["fenceRuleArns" as const])];
  const problems = outputProblems(raw, keys);
  if (problems.length === 0 && (o.listenerArns as string[]).length === 0) problems.push("listenerArns: empty: nothing routes production traffic");
  if (problems.length > 0) refuse(source, "rollback", problems);
  const targetGroups = o.targetGroupArns as Record<Color, string>;
  return {
    pulumiProject: (o.pulumiProject as string | null | undefined) ?? null,
    pulumiStack: (o.pulumiStack as string | null | undefined) ?? null,
    region: o.region as string,
    databaseMode: o.databaseMode as DatabaseModeOutput,
    listenerArns: o.listenerArns as string[],
    targetGroupArns: { blue: targetGroups.blue, green: targetGroups.green },
    stickinessSeconds: o.stickinessSeconds as number | null,
    fenceRuleArns: (o.fenceRuleArns as string[] | undefined) ?? [],
    ...usableAsgNames(o.asgNames),
  };
}

/** asgNames for rollback's scale-back of blue; never a reason to refuse a rollback. */
function usableAsgNames(value: unknown): { asgNames?: Record<Color, string | null> } {
  if (!isRecord(value)) return {};
  const name = (color: Color) => (nonEmptyString(value[color]) ? (value[color] as string) : null);
  return { asgNames: { blue: name("blue"), green: name("green") } };
}
