// A small interpreter for exactly the Amazon States Language the generator emits (./stateMachine.ts),
// for tests and the sandbox: Task (handlers by function name; lambda:invoke, .waitForTaskToken,
// startExecution.sync:2 of a registered machine), Choice, Wait (Seconds / SecondsPath on the
// injected clock, so a virtual clock makes a 24 h pause instant), Map (ItemsPath, MaxConcurrency,
// stop on the first failed item), Succeed, Fail, Retry and Catch; Parameters / ResultSelector with
// `.$` paths, ResultPath. It counts state transitions the way Step Functions bills them (every state
// entered, every retry) and task invocations per function.
//
// No npm package executes ASL in-process (the ones offered wrap the Java Step Functions Local or
// Docker), so this one follows the AWS semantics it needs and refuses anything else by name.

import type { Clock } from "../ports.js";
import type { AslDefinition, AslState } from "./stateMachine.js";

export type Json = unknown;
export type TaskHandler = (payload: Json) => Promise<Json>;

export interface RunnerOptions {
  clock: Clock;
  /** Lambda functions by name/ARN (the `FunctionName` of the task's Parameters). */
  functions: Record<string, TaskHandler>;
  /** Called before every Wait with the seconds it holds (tests act on the world mid-wait here). */
  onWait?: (execution: Execution, state: string, seconds: number) => Promise<void> | void;
}

export class StatesError extends Error {
  constructor(
    readonly error: string,
    override readonly cause: string,
  ) {
    super(`${error}: ${cause}`);
    this.name = error;
  }
}

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";

export class Execution {
  status: ExecutionStatus = "RUNNING";
  output: Json = null;
  error: { error: string; cause: string } | null = null;
  transitions = 0;
  /** States entered, in order (Map iterations included). */
  readonly history: string[] = [];
  stopRequested = false;
  result!: Promise<Execution>;
  /** Resolves when the execution is asked to stop (StopExecution, or a failed sibling in a Map). */
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;
  constructor(
    readonly machineArn: string,
    readonly name: string,
    readonly input: Json,
  ) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }
  requestStop(): void {
    this.stopRequested = true;
    this.resolveStopped();
  }
}

interface PendingToken {
  token: string;
  payload: Json;
  resolve: (output: Json) => void;
  reject: (error: StatesError) => void;
  execution: Execution;
}

export class LocalStepFunctions {
  readonly machines = new Map<string, AslDefinition>();
  readonly executions: Execution[] = [];
  /** Task invocations by function name. */
  readonly invocations = new Map<string, number>();
  private readonly pending = new Map<string, PendingToken>();
  private readonly tokenWaiters: ((pending: PendingToken) => void)[] = [];
  private readonly unclaimed: PendingToken[] = [];
  private tokens = 0;

  constructor(private readonly options: RunnerOptions) {}

  createStateMachine(arn: string, definition: AslDefinition): void {
    this.machines.set(arn, definition);
  }

  /** StartExecution: a name is unique per machine; the same name and input of a running execution returns it (as AWS does). */
  startExecution(machineArn: string, name: string, input: Json): Execution {
    const definition = this.machines.get(machineArn);
    if (!definition) throw new StatesError("StateMachineDoesNotExist", machineArn);
    const existing = this.executions.find((e) => e.machineArn === machineArn && e.name === name);
    if (existing) {
      if (existing.status === "RUNNING" && JSON.stringify(existing.input) === JSON.stringify(input)) return existing;
      throw new StatesError("ExecutionAlreadyExists", `execution ${name} already exists on ${machineArn}`);
    }
    const execution = new Execution(machineArn, name, input);
    this.executions.push(execution);
    execution.result = this.runMachine(execution, definition, input).then(
      (output) => {
        execution.status = execution.stopRequested ? "ABORTED" : "SUCCEEDED";
        execution.output = output;
        return execution;
      },
      (error: unknown) => {
        execution.status = execution.stopRequested ? "ABORTED" : "FAILED";
        execution.error = asStatesError(error);
        return execution;
      },
    );
    return execution;
  }

  stopExecution(execution: Execution): void {
    execution.requestStop();
    for (const [token, pending] of this.pending) {
      if (pending.execution === execution) {
        this.pending.delete(token);
        pending.reject(new StatesError("States.Aborted", "execution stopped"));
      }
    }
  }

  /** The next task token handed out by a `.waitForTaskToken` task (or one already waiting). */
  nextTaskToken(): Promise<{ token: string; payload: Json }> {
    const ready = this.unclaimed.shift();
    if (ready) return Promise.resolve({ token: ready.token, payload: ready.payload });
    return new Promise((resolve) => this.tokenWaiters.push((p) => resolve({ token: p.token, payload: p.payload })));
  }

  sendTaskSuccess(token: string, output: Json): void {
    const pending = this.pending.get(token);
    if (!pending) throw new StatesError("TaskDoesNotExist", "no task waits for this token");
    this.pending.delete(token);
    pending.resolve(output);
  }

  sendTaskFailure(token: string, error: string, cause: string): void {
    const pending = this.pending.get(token);
    if (!pending) throw new StatesError("TaskDoesNotExist", "no task waits for this token");
    this.pending.delete(token);
    pending.reject(new StatesError(error, cause));
  }

  invocationCount(): number {
    let total = 0;
    for (const count of this.invocations.values()) total += count;
    return total;
  }

  /** Run a definition (a machine or a Map's item processor) from StartAt to its end. */
  private async runMachine(execution: Execution, definition: Pick<AslDefinition, "StartAt" | "States">, input: Json): Promise<Json> {
    let name: string | undefined = definition.StartAt;
    let data = input;
    for (let guard = 0; name !== undefined; guard++) {
      if (guard > 100_000) throw new StatesError("States.Runtime", "more than 100000 transitions in one run");
      if (execution.stopRequested) throw new StatesError("States.Aborted", "execution stopped");
      const state: AslState | undefined = definition.States[name];
      if (!state) throw new StatesError("States.Runtime", `no state named ${name}`);
      execution.transitions += 1;
      execution.history.push(name);
      const step: { data: Json; next: string | undefined } = await this.runState(execution, name, state, data);
      data = step.data;
      name = step.next;
    }
    return data;
  }

  private async runState(execution: Execution, name: string, state: AslState, input: Json): Promise<{ data: Json; next: string | undefined }> {
    const next = (state.End === true ? undefined : (state.Next as string | undefined)) as string | undefined;
    switch (state.Type) {
      case "Succeed":
        return { data: input, next: undefined };
      case "Fail":
        throw new StatesError(String(state.Error ?? "States.Fail"), String(state.Cause ?? ""));
      case "Pass":
        return { data: applyResultPath(input, state.ResultPath, state.Result ?? input), next };
      case "Choice":
        return { data: input, next: choose(state, input) };
      case "Wait": {
        const seconds = state.SecondsPath !== undefined ? readPath(input, String(state.SecondsPath)) : state.Seconds;
        if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 0) {
          throw new StatesError("States.Runtime", `${name}: the wait's seconds (${JSON.stringify(seconds)}) are not a non-negative integer`);
        }
        await this.options.onWait?.(execution, name, seconds);
        await this.options.clock.sleep(seconds * 1000);
        return { data: input, next };
      }
      case "Task":
      case "Map":
        return this.withRetryAndCatch(execution, name, state, input, next);
      default:
        throw new StatesError("States.Runtime", `unsupported state type ${String(state.Type)}`);
    }
  }

  private async withRetryAndCatch(
    execution: Execution,
    name: string,
    state: AslState,
    input: Json,
    next: string | undefined,
  ): Promise<{ data: Json; next: string | undefined }> {
    const retriers = (state.Retry as Retrier[] | undefined) ?? [];
    const attempts = retriers.map(() => 0);
    for (;;) {
      try {
        const raw = state.Type === "Map" ? await this.runMap(execution, state, input) : await this.runTask(execution, state, input);
        const selected = state.ResultSelector !== undefined ? resolveParameters(state.ResultSelector, raw, null) : raw;
        return { data: applyResultPath(input, state.ResultPath, selected), next };
      } catch (thrown) {
        const error = asStatesError(thrown);
        if (execution.stopRequested) throw error;
        const index = retriers.findIndex((r) => matches(r.ErrorEquals, error.error));
        const retrier = retriers[index];
        if (retrier && attempts[index]! < (retrier.MaxAttempts ?? 3)) {
          const delay = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, attempts[index]!);
          attempts[index]! += 1;
          execution.transitions += 1; // a retry is billed as a transition
          execution.history.push(`${name} (retry ${attempts[index]})`);
          await this.options.clock.sleep(Math.round(delay * 1000));
          continue;
        }
        const catcher = ((state.Catch as Catcher[] | undefined) ?? []).find((c) => matches(c.ErrorEquals, error.error));
        if (!catcher) throw error;
        return { data: applyResultPath(input, catcher.ResultPath, { Error: error.error, Cause: error.cause }), next: catcher.Next };
      }
    }
  }

  private async runTask(execution: Execution, state: AslState, input: Json): Promise<Json> {
    const resource = String(state.Resource);
    const context = { token: null as string | null };
    if (resource.endsWith(".waitForTaskToken")) context.token = `token-${++this.tokens}`;
    const parameters = resolveParameters(state.Parameters ?? { "Payload.$": "$" }, input, context.token) as Record<string, Json>;
    if (resource === "arn:aws:states:::lambda:invoke" || resource === "arn:aws:states:::lambda:invoke.waitForTaskToken") {
      const functionName = String(parameters.FunctionName);
      const handler = this.options.functions[functionName];
      if (!handler) throw new StatesError("Lambda.ResourceNotFoundException", `no function ${functionName}`);
      this.invocations.set(functionName, (this.invocations.get(functionName) ?? 0) + 1);
      if (context.token === null) return { StatusCode: 200, Payload: await handler(parameters.Payload) };
      const waiting = this.waitForToken(execution, context.token, parameters.Payload);
      try {
        await handler(parameters.Payload);
      } catch (error) {
        // The token was never delivered: nobody can answer it.
        this.pending.delete(context.token);
        waiting.catch(() => undefined);
        throw error;
      }
      return waiting;
    }
    if (resource === "arn:aws:states:::states:startExecution.sync:2") {
      const child = this.startExecution(String(parameters.StateMachineArn), String(parameters.Name), parameters.Input);
      const done = await Promise.race([
        child.result,
        execution.stopped.then(() => {
          this.stopExecution(child);
          return child.result;
        }),
      ]);
      if (done.status !== "SUCCEEDED")
        throw new StatesError("States.TaskFailed", `execution ${child.name} ${done.status}: ${done.error?.error ?? ""} ${done.error?.cause ?? ""}`.trim());
      return { ExecutionArn: `${child.machineArn}:${child.name}`, Output: done.output, Status: done.status };
    }
    throw new StatesError("States.Runtime", `unsupported resource ${resource}`);
  }

  private waitForToken(execution: Execution, token: string, payload: Json): Promise<Json> {
    return new Promise<Json>((resolve, reject) => {
      const pending: PendingToken = { token, payload, resolve, reject, execution };
      this.pending.set(token, pending);
      const waiter = this.tokenWaiters.shift();
      if (waiter) waiter(pending);
      else this.unclaimed.push(pending);
    });
  }

  /** Map: items from ItemsPath, at most MaxConcurrency at once; the first failed item stops the others and fails the Map. */
  private async runMap(execution: Execution, state: AslState, input: Json): Promise<Json> {
    const items = readPath(input, String(state.ItemsPath ?? "$"));
    if (!Array.isArray(items)) throw new StatesError("States.Runtime", `ItemsPath ${String(state.ItemsPath)} is not an array`);
    const processor = state.ItemProcessor as Pick<AslDefinition, "StartAt" | "States">;
    const limit = typeof state.MaxConcurrency === "number" && state.MaxConcurrency > 0 ? state.MaxConcurrency : items.length;
    const results: Json[] = new Array(items.length);
    const iterations: Execution[] = [];
    let failure: StatesError | null = null;
    let nextIndex = 0;
    const worker = async (): Promise<void> => {
      while (failure === null && nextIndex < items.length) {
        const index = nextIndex++;
        const iteration = new Execution(execution.machineArn, `${execution.name}/map-${index}`, items[index]);
        iterations.push(iteration);
        try {
          results[index] = await this.runMachine(iteration, processor, items[index]);
          execution.transitions += iteration.transitions;
        } catch (error) {
          execution.transitions += iteration.transitions;
          if (failure === null) {
            failure = asStatesError(error);
            for (const other of iterations) other.requestStop();
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, Math.max(1, items.length)) }, worker));
    if (failure !== null) throw new StatesError("States.TaskFailed", `a Map iteration failed: ${(failure as StatesError).message}`);
    return results;
  }
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
}
interface Catcher {
  ErrorEquals: string[];
  ResultPath?: string | null;
  Next: string;
}

function matches(errorEquals: string[], error: string): boolean {
  // States.TaskFailed is a wildcard for any error but States.Timeout (AWS semantics).
  return errorEquals.some((name) => name === error || name === "States.ALL" || (name === "States.TaskFailed" && error !== "States.Timeout"));
}

function asStatesError(error: unknown): StatesError {
  if (error instanceof StatesError) return error;
  if (error instanceof Error) return new StatesError(error.name === "Error" ? "Error" : error.name, error.message);
  return new StatesError("Error", String(error));
}

type Rule = Record<string, unknown>;

function choose(state: AslState, input: Json): string {
  for (const rule of (state.Choices as Rule[]) ?? []) if (evaluate(rule, input)) return String(rule.Next);
  if (state.Default === undefined) throw new StatesError("States.NoChoiceMatched", "no choice matched and no Default");
  return String(state.Default);
}

function evaluate(rule: Rule, input: Json): boolean {
  if (Array.isArray(rule.And)) return (rule.And as Rule[]).every((r) => evaluate(r, input));
  if (Array.isArray(rule.Or)) return (rule.Or as Rule[]).some((r) => evaluate(r, input));
  if (rule.Not) return !evaluate(rule.Not as Rule, input);
  const path = String(rule.Variable);
  const present = hasPath(input, path);
  if ("IsPresent" in rule) return present === rule.IsPresent;
  if (!present) throw new StatesError("States.Runtime", `Choice: ${path} is not in the input`);
  const value = readPath(input, path);
  if ("StringEquals" in rule) return value === rule.StringEquals;
  if ("NumericEquals" in rule) return value === rule.NumericEquals;
  if ("BooleanEquals" in rule) return value === rule.BooleanEquals;
  throw new StatesError("States.Runtime", `unsupported Choice rule ${JSON.stringify(Object.keys(rule))}`);
}

/** `$`, `$.a.b`, `$.a[0].b` (the JSONPath subset the generator emits). */
function segments(path: string): (string | number)[] {
  if (!path.startsWith("$")) throw new StatesError("States.Runtime", `unsupported path ${path}`);
  const out: (string | number)[] = [];
  for (const match of path.slice(1).matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)) out.push(match[1] !== undefined ? match[1] : Number(match[2]));
  return out;
}

function hasPath(input: Json, path: string): boolean {
  let current: unknown = input;
  for (const key of segments(path)) {
    if (current === null || typeof current !== "object" || !(key in (current as object))) return false;
    current = (current as Record<string | number, unknown>)[key];
  }
  return true;
}

function readPath(input: Json, path: string): Json {
  if (!hasPath(input, path)) throw new StatesError("States.Runtime", `path ${path} is not in the input`);
  let current: unknown = input;
  for (const key of segments(path)) current = (current as Record<string | number, unknown>)[key];
  return current;
}

function resolveParameters(template: unknown, input: Json, token: string | null): Json {
  if (Array.isArray(template)) return template.map((t) => resolveParameters(t, input, token));
  if (template === null || typeof template !== "object") return template;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template as Record<string, unknown>)) {
    if (!key.endsWith(".$")) {
      out[key] = resolveParameters(value, input, token);
      continue;
    }
    const path = String(value);
    if (path === "$$.Task.Token") {
      if (token === null) throw new StatesError("States.Runtime", "$$.Task.Token outside a .waitForTaskToken task");
      out[key.slice(0, -2)] = token;
    } else {
      out[key.slice(0, -2)] = structuredClone(readPath(input, path));
    }
  }
  return out;
}

function applyResultPath(input: Json, resultPath: unknown, result: Json): Json {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === "$") return result;
  const keys = segments(String(resultPath));
  const root = (input !== null && typeof input === "object" ? structuredClone(input) : {}) as Record<string | number, unknown>;
  let current = root;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) current[key] = result;
    else {
      if (current[key] === null || typeof current[key] !== "object") current[key] = {};
      current = current[key] as Record<string | number, unknown>;
    }
  });
  return root;
}
