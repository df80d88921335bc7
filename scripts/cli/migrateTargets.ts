// `npm run migrate`'s databases and stack: the targets from URLs (given or from the environment)
// or from the stack's outputs; with --stack, its config, the cutover journal's contract gate and
// an RDS snapshot before contract.

import { urlFromEnv } from "./argvSecrets.js";
import { UsageError } from "./common.js";
import type { Io } from "./args.js";
import type { MigrateFlags } from "./migrateProgram.js";
import type { MigrateDatabase, MigrateTargets, Phase } from "../postgres/migrate/index.js";
import type { ContractGate } from "../core/engine/migrate.js";
import type { StackConfig } from "../../infra/config.js";

async function urlDatabase(label: "database" | "blue" | "green", url: string): Promise<MigrateDatabase> {
  const { targetFromUrl } = await import("../postgres/parity/index.js");
  const target = await targetFromUrl(label === "database" ? "blue" : label, url).catch((error: Error) => {
    throw new UsageError(error.message.replace(/^--blue/, label === "database" ? "--database-url" : "--blue"));
  });
  return { label, display: target.display, config: target.config };
}

export async function targetsFrom(flags: MigrateFlags, phase: Phase, io: Io, raw?: { raw: unknown; source: string }): Promise<MigrateTargets> {
  const env = io.env;
  flags.databaseUrl ??= urlFromEnv(flags.databaseUrlEnv, "--database-url-env", env);
  flags.blue ??= urlFromEnv(flags.blueEnv, "--blue-env", env);
  flags.green ??= urlFromEnv(flags.greenEnv, "--green-env", env);
  const url = flags.databaseUrl ?? (flags.blue || flags.green ? undefined : env.DATABASE_URL);
  const blue = flags.blue ?? (url ? undefined : env.BLUE_DATABASE_URL);
  const green = flags.green ?? (url ? undefined : env.GREEN_DATABASE_URL);
  const writer = flags.writer ?? (phase === "expand" ? "blue" : "green");
  // URLs name the databases even with --stack (which then gives the config, the journal and the snapshot).
  if (!url && !blue && !green && (raw || flags.stack || flags.outputs)) {
    const { loadRawOutputs, validateStackName } = await import("../app/stackOutputs.js");
    const outputs =
      raw ??
      (await loadRawOutputs({
        stack: flags.stack === undefined ? undefined : validateStackName(flags.stack),
        outputsFile: flags.outputs,
        cwd: io.cwd,
        env: io.env,
        allowUnverified: flags.allowUnverifiedStack === true,
        warn: (line) => io.stderr.write(line),
      }));
    const { targetsFromOutputs } = await import("../postgres/migrate/targets.js");
    return targetsFromOutputs(outputs.raw, outputs.source, { database: flags.database, writer, writerFrom: flags.writer ? "flag" : "default" });
  }
  if (url) {
    if (blue || green) throw new UsageError("give --database-url (shared) or --blue and --green (paired), not both");
    return { mode: "shared", database: await urlDatabase("database", url) };
  }
  if (blue && green)
    return {
      mode: "paired",
      writer,
      writerFrom: flags.writer ? "flag" : "default",
      blue: await urlDatabase("blue", blue),
      green: await urlDatabase("green", green),
    };
  if (blue || green) throw new UsageError("paired databases need both --blue and --green");
  throw new UsageError("which database? --database-url URL (shared), --blue URL --green URL (paired), or --stack NAME");
}

export interface StackContext {
  raw: { raw: unknown; source: string };
  config: StackConfig;
  /** The cutover journal read through the JournalStore, judged by contractGate. */
  gate(): Promise<ContractGate>;
  /** Snapshot the writer's database instance and wait until it is available; its id. */
  snapshot(color: "blue" | "green"): Promise<string>;
}

/** --stack: the config (rollout.migrationsDir, contractAfterSeconds), the journal store, an RDS snapshotter. */
export async function loadStackContext(flags: MigrateFlags, io: Io): Promise<StackContext> {
  const { openStack } = await import("../app/stack.js");
  const opened = await openStack(flags, io);
  const config = await opened.config();
  const outputs = opened.outputs();
  const raw = opened.raw;
  return {
    raw,
    config,
    gate: async () => {
      const [{ awsCutoverDeps }, { parseJournal }, { contractGate }] = await Promise.all([
        import("../app/wiring/aws.js"),
        import("../core/journal.js"),
        import("../core/engine/migrate.js"),
      ]);
      const deps = await awsCutoverDeps(opened, outputs, { cwd: io.cwd });
      const loaded = await deps.journal.load();
      return contractGate(loaded === null ? null : parseJournal(loaded), Date.now(), config.rollout.contractAfterSeconds * 1000);
    },
    snapshot: async (color) => {
      const instanceId = outputs.databaseInstanceIds[color];
      if (!instanceId) throw new UsageError(`${raw.source}: databaseInstanceIds.${color} is missing: no database instance to snapshot before contract`);
      const [{ rdsSdk }, { clientConfig }, { RdsSnapshotter }] = await Promise.all([
        import("../aws/sdk.js"),
        import("../aws/errors.js"),
        import("../aws/rdsSnapshot.js"),
      ]);
      const rds = new (rdsSdk().RDSClient)(clientConfig(outputs.region));
      const snap = await new RdsSnapshotter(rds, { stack: opened.short, instanceId }).snapshot(
        "bluegreen-contract",
        config.rollout.snapshot.timeoutSeconds * 1000,
      );
      return snap.id;
    },
  };
}
