// `npm run rollback` between its flags and the engine: the AWS rollback of an opened stack, with
// its policies (the deadline, Ctrl-C, the webhook) and its lazily read config.
//
// Start-up is part of the product here (first AWS call within 250 ms of process start, compiled
// JavaScript): this path loads the engine (pure), the SSM client (the lock is the first call) and
// then the ELBv2 client (while the journal calls travel); the outputs are checked by the
// contract's hand-written parser, not zod; the stack config (YAML + zod) is read only after the
// flip has been read back (in paired mode: once the fence first needs it), for the weight
// write-back, the webhook and, in paired mode, the fence's drain time (the database name is the
// stack outputs'; outputs too old to name it make the rollback say so, never refuse). A
// malformed config never blocks a rollback: it is reported as a warning.
//
// The deadline: every AWS call carries its signal; when the work time is up, in-flight calls are
// aborted, the engine stops and records failed-rollback, and the reserve is for that journal save
// and the lock release.

import type { StackConfig } from "../../infra/config.js";
import type { RollbackResult } from "../core/engine.js";
import type { EngineEvent, EventSink } from "../core/events.js";
import type { RouteWeights } from "../core/ports.js";
import { cleanupReserveMs, RollbackDeadline } from "./policies/deadline.js";
import type { LockHolder } from "../core/ports.js";
import { onRollbackInterrupt } from "./policies/rollbackInterrupt.js";
import { DeferredWebhook } from "./policies/webhook.js";
import type { OpenStack } from "./stack.js";
import { awsPairedRollbackPorts, awsRollbackDeps } from "./wiring/aws.js";

export interface RollbackSetup {
  opened: OpenStack;
  /** shared, or paired for the lossless rollback (the caller turned --plain-flip into shared). */
  databaseMode: "shared" | "paired";
  deadlineMs: number;
  /** performance.now() at the command's start: the deadline counts from there. */
  began: number;
  /** --webhook; else rollout.webhookUrl once the config is read. */
  webhook: string | undefined;
  writeConfig: boolean;
  cwd: string;
  stderr: NodeJS.WritableStream;
  /** The command's printer: every event, then closed before an exit. */
  printer: EventSink & { close(): void };
  /** The command that finishes a rollback this process leaves, for the Ctrl-C message. */
  retry: string;
}

export interface RollbackRequestFlags {
  owner: string;
  reason?: string | undefined;
  /** Break a lock held by someone else; "except-rollback" (`abort`): a cutover's, never another rollback's. */
  force?: boolean | "except-rollback" | undefined;
  verifyTimeoutMs?: number | undefined;
  /** Whether a lock's holder is a process that no longer runs on this host: taken over without --force (journaled). */
  holderIsDead?: ((holder: LockHolder) => boolean) | undefined;
}

/** How the rollback ended, for the command to print and map to an exit code. */
export type RollbackEnd =
  | { kind: "interrupted-before-writing" }
  | { kind: "result"; result: RollbackResult; lastRoutes: RouteWeights[] | null; deadlinePassed: boolean; interrupted: boolean }
  | { kind: "failed"; error: unknown; lastRoutes: RouteWeights[] | null; deadlinePassed: boolean };

/** The rollback of an opened stack on AWS: its ports wired, its policies armed; `preview` or `run` it once. */
export async function prepareAwsRollback(setup: RollbackSetup) {
  const deadline = new RollbackDeadline(setup.deadlineMs, setup.began);
  const outputs = setup.opened.rollbackOutputs();
  const webhook = new DeferredWebhook(setup.opened.short, (message) => setup.stderr.write(`warning: ${message}\n`));
  const config = lazyConfig(setup, webhook);
  let lastRoutes: RouteWeights[] | null = null;
  let writing = false;
  const events = (event: EngineEvent) => {
    if (event.type === "weights-verified" && (event.ok || event.routes.length > 0)) lastRoutes = event.routes;
    if (event.type === "rollback-complete" && event.routes.length > 0) lastRoutes = event.routes;
    if (event.type === "rollback-started") writing = true;
    // Shared mode: not before the flip is read back, where YAML + zod would compete with it for the
    // CPU. Paired mode needs the config before the flip (fence drain time, database name).
    if (setup.databaseMode === "paired" || event.type === "weights-verified" || event.type === "rollback-complete") config.start();
    setup.printer(event);
    webhook.send(event);
  };
  const [deps, engine] = await Promise.all([
    awsRollbackDeps(setup.opened, outputs, { signal: deadline.signal, writeConfig: setup.writeConfig, cwd: setup.cwd }),
    import("../core/engine.js"),
  ]);

  return {
    /** --dry-run: the live weights and the calls a rollback would make; nothing is changed. */
    async preview(): Promise<{ routes: RouteWeights[]; writes: string[] }> {
      deadline.stop();
      return { routes: await deps.router.readWeights(), writes: deps.router.describeWrites() };
    },

    async run(flags: RollbackRequestFlags): Promise<RollbackEnd> {
      const raw = setup.opened.raw.raw as { databaseName?: unknown } | null;
      if (setup.databaseMode === "paired" && (typeof raw?.databaseName !== "string" || raw.databaseName === ""))
        setup.stderr.write(
          `warning: the stack outputs (${setup.opened.raw.source}) name no databaseName (deployed before it was exported): replication is checked on the RDS secret's dbname, else "app"; run \`pulumi up\` after this rollback\n`,
        );
      const paired =
        setup.databaseMode === "paired"
          ? await awsPairedRollbackPorts(setup.opened, outputs, { config: config.promise, needConfig: config.start, signal: deadline.signal })
          : undefined;
      // The interrupt is the operator's Ctrl-C before anything was written (the engine stops, `rollback` continues).
      const interrupt = new AbortController();
      const ctrlC = onRollbackInterrupt({
        stderr: setup.stderr,
        writing: () => writing,
        lastRoutes: () => lastRoutes,
        retry: setup.retry,
        stop: (reason) => {
          interrupt.abort(reason);
          deadline.work.abort(new Error("interrupted (Ctrl-C)"));
        },
        exitNow: (code) => {
          setup.printer.close();
          process.exit(code);
        },
      });
      const request = {
        owner: flags.owner,
        databaseMode: setup.databaseMode,
        stack: setup.opened.identity.stack,
        signal: interrupt.signal,
        ...(flags.reason ? { reason: flags.reason } : {}),
        ...(flags.force ? { force: flags.force } : {}),
        ...(flags.verifyTimeoutMs !== undefined ? { verifyTimeoutMs: flags.verifyTimeoutMs } : {}),
        ...(flags.holderIsDead ? { holderIsDead: flags.holderIsDead } : {}),
        // The engine's read-back windows fit several read-backs and a rewrite before the work deadline (engine clock: Date.now()).
        deadlineAt: Date.now() + (setup.deadlineMs - cleanupReserveMs(setup.deadlineMs)) - (performance.now() - setup.began),
      };
      const ports = paired ? { ...deps, ...paired } : deps;
      try {
        const result = await engine.runRollback(ports, request, { events, rollbackDeadline: deadline.work.signal });
        deadline.stopWork();
        return { kind: "result", result, lastRoutes, deadlinePassed: deadline.passed, interrupted: ctrlC.count() > 0 };
      } catch (error) {
        if (ctrlC.count() > 0 && !writing) return { kind: "interrupted-before-writing" };
        return { kind: "failed", error, lastRoutes, deadlinePassed: deadline.passed };
      } finally {
        ctrlC.dispose();
        deadline.stopWork();
        setup.printer.close();
        await paired?.replication.close();
        config.start();
        await config.done.catch(() => undefined);
        await webhook.flush();
      }
    },

    /** The hard timer too: call once the command is done. */
    stop: () => deadline.stop(),
  };
}

/**
 * The stack config, read once on demand (`start`): only the webhook URL and, in paired mode, the
 * fence's drain time and the database name need it. A broken config is a warning here, never a
 * reason not to roll back (`promise` then resolves to null).
 */
function lazyConfig(setup: RollbackSetup, webhook: DeferredWebhook) {
  let resolveConfig: (config: StackConfig | null) => void = () => undefined;
  const promise = new Promise<StackConfig | null>((resolve) => (resolveConfig = resolve));
  let done: Promise<void> = Promise.resolve();
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    done = (async () => {
      let config: StackConfig | null = null;
      try {
        config = await setup.opened.config();
      } catch (error) {
        setup.stderr.write(`warning: ${(error as Error).message.split("\n")[0]} (rollback goes on; fix the config before the next cutover)\n`);
      }
      resolveConfig(config);
      webhook.attach(setup.webhook ?? config?.rollout.webhookUrl);
    })();
  };
  return {
    promise,
    start,
    get done() {
      return done;
    },
  };
}
