// The bad-input table, every option of every command: the options that take a value are read
// from each command's own --help (so an option added later is covered without touching this
// file), and each is given the next option as its "value" — `--skip-snapshot --dry-run`, the
// mistake that used to start a real cutover. Then every path a command reads or writes: a FIFO,
// /dev/zero, a directory, a report directory that cannot exist. Each case: exit 2, a message that
// names the option(s) and the rule, no AWS call, nothing changed in the working directory.

import { execFileSync, spawn } from "node:child_process";
import { lstat, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { MockAws } from "../../bench/rollbackStartup.js";
import { cutoverMain } from "../../scripts/cli/cutoverMain.js";
import { maintenanceMain } from "../../scripts/cli/maintenanceMain.js";
import { migrateMain } from "../../scripts/cli/migrateMain.js";
import { parityMain } from "../../scripts/cli/parityMain.js";
import { promoteMain } from "../../scripts/cli/promoteMain.js";
import { pauseMain } from "../../scripts/cli/pauseMain.js";
import { abortMain } from "../../scripts/cli/abortMain.js";
import { reportMain } from "../../scripts/cli/reportMain.js";
import { rollbackMain } from "../../scripts/cli/rollbackMain.js";
import { statusMain } from "../../scripts/cli/statusMain.js";
import { syncMain } from "../../scripts/cli/syncMain.js";
import { ROOT, runProcessMain, useCliHarness, type CliMain, type CliRun, type StackOutputs } from "../support/cliHarness.js";

const cli = useCliHarness({ dirPrefix: "bluegreen-everyoption-", weights: { blue: 100, green: 0 }, copyProdConfig: true });
let mock: MockAws;
let dir: string;
let outputs: StackOutputs;
beforeEach(() => void ({ mock, dir, outputs } = cli));

/** The demo takes over the process's signals: it runs as its own process. */
async function runDemo(argv: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(ROOT, "scripts/demo.ts"), ...argv], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code: (code ?? -1) as CliRun["code"], stdout: out, stderr: "", out };
}

interface Command {
  name: string;
  /** Arguments before the options (a subcommand, maintenance's mode). */
  prefix: string[];
  run: (argv: string[]) => Promise<CliRun>;
}

const withIo = (main: CliMain) => (argv: string[]) => cli.run(main, argv);
const COMMANDS: Command[] = [
  { name: "cutover", prefix: [], run: withIo(cutoverMain) },
  { name: "rollback", prefix: [], run: withIo(rollbackMain) },
  { name: "status", prefix: [], run: withIo(statusMain) },
  { name: "promote", prefix: [], run: withIo(promoteMain) },
  { name: "pause", prefix: [], run: withIo(pauseMain) },
  { name: "abort", prefix: [], run: withIo(abortMain) },
  { name: "maintenance", prefix: ["on"], run: withIo(maintenanceMain) },
  { name: "report", prefix: [], run: withIo(reportMain) },
  { name: "parity", prefix: [], run: (argv) => runProcessMain(parityMain, argv) },
  ...["start", "reverse", "status", "sequences", "stop"].map((sub) => ({
    name: `sync ${sub}`,
    prefix: [sub],
    run: (argv: string[]) => runProcessMain(syncMain, argv),
  })),
  ...["lint", "plan", "up", "contract"].map((sub) => ({ name: `migrate ${sub}`, prefix: [sub], run: withIo(migrateMain) })),
  { name: "demo", prefix: [], run: runDemo },
];

/** The options of a command that take a value, and one that takes none, from its --help. */
function optionsOf(help: string): { valued: string[]; flag: string } {
  const lines = help.split("\n");
  const valued = lines.flatMap((line) => /^\s+(?:-\w, )?(--[a-z][a-z0-9-]*) <[^>]+>/.exec(line)?.[1] ?? []);
  const flags = lines.flatMap((line) => /^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)(?:\s{2,}|$)/.exec(line)?.[1] ?? []);
  const flag = ["--dry-run", "--yes", "--json"].find((f) => flags.includes(f)) ?? flags.find((f) => f !== "--help") ?? "--help";
  return { valued, flag };
}

/** Every file in the working directory with its contents. */
async function snapshotDir(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(dir, { recursive: true })) {
    const info = await lstat(join(dir, name));
    // A directory or a FIFO (reading one would block): its name is in the listing.
    files[name] = info.isFile() ? await readFile(join(dir, name), "utf8") : "(not a regular file)";
  }
  return files;
}

async function expectRefused(command: Command, argv: string[], message: RegExp): Promise<void> {
  const before = await snapshotDir();
  const result = await command.run(argv);
  expect(result.out, argv.join(" ")).toMatch(message);
  expect(result.code, result.out).toBe(2);
  expect(result.out).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack trace
  expect(mock.calls).toEqual([]);
  expect(await snapshotDir()).toEqual(before);
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const counted = { valueIsAnOption: 0, paths: 0, rules: 0 };

describe("every option that takes a value refuses the next option as its value", () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))("%s", { timeout: 120_000 }, async (_name, command) => {
    const help = await command.run([...command.prefix, "--help"]);
    expect(help.code, help.out).toBe(0);
    const { valued, flag } = optionsOf(help.out);
    if (command.name !== "report" && command.name !== "migrate lint") expect(valued.length, help.out).toBeGreaterThan(1);
    for (const option of valued) {
      await expectRefused(
        command,
        [...command.prefix, option, flag],
        new RegExp(`${escape(option)} takes a value, but the next argument is "${escape(flag)}", an option`),
      );
      counted.valueIsAnOption += 1;
    }
  });

  it("the issue's own cases: cutover --skip-snapshot --dry-run, rollback --reason --dry-run", async () => {
    const F = ["--stack", "prod", "--outputs", "outputs.json"];
    await expectRefused(COMMANDS[0]!, [...F, "--yes", "--skip-snapshot", "--dry-run"], /--skip-snapshot takes a value, but the next argument is "--dry-run"/);
    await expectRefused(COMMANDS[1]!, [...F, "--reason", "--dry-run"], /--reason takes a value, but the next argument is "--dry-run"/);
    // --name=value gives a value explicitly and is parsed as before.
    const result = await cli.run(rollbackMain, [...F, "--reason=--dry-run", "--dry-run"]);
    expect(result.code, result.out).toBe(0);
    counted.valueIsAnOption += 2;
  });
});

describe("paths: checked before anything is locked or written", () => {
  const command = (name: string) => COMMANDS.find((c) => c.name === name)!;
  const F = ["--stack", "prod"];
  const fifo = () => {
    // Absolute: parity and sync read paths from the process's own directory.
    execFileSync("mkfifo", [join(dir, "pipe")]);
    return join(dir, "pipe");
  };

  const inputs: { name: string; argv: (path: string) => string[] }[] = [
    { name: "cutover", argv: (p) => [...F, "--yes", "--outputs", p] },
    { name: "rollback", argv: (p) => [...F, "--outputs", p] },
    { name: "status", argv: (p) => [...F, "--outputs", p] },
    { name: "promote", argv: (p) => [...F, "--outputs", p] },
    { name: "maintenance", argv: (p) => ["on", ...F, "--outputs", p] },
    { name: "parity", argv: (p) => [...F, "--outputs", p] },
    { name: "sync status", argv: (p) => ["status", ...F, "--outputs", p] },
    { name: "migrate plan", argv: (p) => ["plan", ...F, "--outputs", p, "--dir", "."] },
  ];
  const configs: { name: string; argv: (path: string) => string[] }[] = [
    { name: "cutover", argv: (p) => [...F, "--yes", "--outputs", "outputs.json", "--config", p] },
    { name: "status", argv: (p) => [...F, "--outputs", "outputs.json", "--config", p] },
    { name: "promote", argv: (p) => [...F, "--outputs", "outputs.json", "--config", p] },
    { name: "maintenance", argv: (p) => ["on", ...F, "--outputs", "outputs.json", "--config", p] },
  ];
  const bad: { what: string; path: () => string; rule: RegExp }[] = [
    { what: "a FIFO", path: fifo, rule: /is a FIFO \(named pipe\): it must be a regular file/ },
    { what: "/dev/zero", path: () => "/dev/zero", rule: /\/dev\/zero is a device: it must be a regular file/ },
    { what: "a directory", path: () => dir, rule: /is a directory: it must be a regular file/ },
  ];

  for (const { what, path, rule } of bad) {
    it.each(inputs.map((c) => [c.name, c] as const))(`--outputs ${what}: %s`, { timeout: 30_000 }, async (_n, c) => {
      await expectRefused(command(c.name), c.argv(path()), rule);
      counted.paths += 1;
    });
    it.each(configs.map((c) => [c.name, c] as const))(`--config ${what}: %s`, { timeout: 30_000 }, async (_n, c) => {
      await expectRefused(command(c.name), c.argv(path()), rule);
      counted.paths += 1;
    });
  }

  it("an outputs file larger than any stack's is refused by its size, unread", async () => {
    await writeFile(join(dir, "big.json"), Buffer.alloc(9 * 1024 * 1024, 0x20));
    await expectRefused(command("rollback"), [...F, "--outputs", "big.json"], /big\.json is 9437184 bytes: more than 8388608 bytes/);
    counted.paths += 1;
  });

  it.each([
    ["cutover", [...F, "--outputs", "outputs.json", "--yes", "--reports", "/dev/null/x"]],
    ["rollback", [...F, "--outputs", "outputs.json", "--reports", "/dev/null/x"]],
    ["promote", [...F, "--outputs", "outputs.json", "--reports", "/dev/null/x"]],
  ])("--reports /dev/null/x: %s refuses before the lock", async (name, argv) => {
    await expectRefused(command(name), argv, /--reports \/dev\/null\/x: \/dev\/null is a device, not a directory: reports cannot be written there/);
    counted.paths += 1;
  });

  it("report: a FIFO or /dev/zero as the JSON", { timeout: 30_000 }, async () => {
    execFileSync("mkfifo", [join(dir, "x.json")]);
    await expectRefused(command("report"), ["x.json"], /x\.json: not a regular file/);
    await expectRefused(command("report"), ["/dev/zero"], /\/dev\/zero: a report is a \.json file/);
    counted.paths += 2;
  });
});

describe("the rules accepted silently before", () => {
  const F = ["--stack", "prod", "--outputs", "outputs.json"];
  it.each<[string, CliMain, string[], RegExp]>([
    ["cutover --now without --resume", cutoverMain, [...F, "--yes", "--now"], /--now goes only with --resume/],
    ["rollback --plain-flip on a shared stack", rollbackMain, [...F, "--plain-flip"], /--plain-flip is for database\.mode paired .* say "shared"/],
    ["rollback --deadline 0x10", rollbackMain, [...F, "--deadline", "0x10"], /--deadline 0x10: must be a number of seconds from 1 to 3600, written in decimal/],
    ["status --deadline 1e3", statusMain, [...F, "--deadline", "1e3"], /--deadline 1e3: must be a number of seconds .* in decimal/],
  ])("%s", async (_name, main, argv, message) => {
    await expectRefused({ name: "", prefix: [], run: (a) => cli.run(main, a) }, argv, message);
    counted.rules += 1;
  });

  it.each<[string, CliMain]>([
    ["rollback", rollbackMain],
    ["cutover", cutoverMain],
    ["status", statusMain],
  ])("a listener ARN listed twice in the outputs: %s", async (_name, main) => {
    await writeFile(join(dir, "outputs.json"), JSON.stringify({ ...outputs, listenerArns: [outputs.listenerArns[0], outputs.listenerArns[0]] }));
    await expectRefused(
      { name: "", prefix: [], run: (a) => cli.run(main, a) },
      [...F, "--yes"].filter((a) => main === cutoverMain || a !== "--yes"),
      /listenerArns: \S+ is listed twice: each ARN must appear once/,
    );
    counted.rules += 1;
  });

  it("the count, for the record", () => {
    // Counts what ran in this file (all of it unless filtered with -t).
    process.stdout.write(`bad input, every option: ${counted.valueIsAnOption} value-is-an-option, ${counted.paths} path, ${counted.rules} rule cases\n`);
  });
});
