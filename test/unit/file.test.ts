// The local filesystem Lock and JournalStore (sandbox, tests), and the engine over them.

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { runCutover, runRollback } from "../../scripts/core/engine.js";
import { JournalCorruptError, parseJournal } from "../../scripts/core/journal.js";
import { LockHeldError } from "../../scripts/core/ports.js";
import { FileJournal } from "../../scripts/local/fileJournal.js";
import { FileLock } from "../../scripts/local/fileLock.js";
import { FakeWorld, testRollout } from "../support/fakes.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "bluegreen-file-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const holder = (owner: string) => ({ owner, since: 1_700_000_000_000, operation: "cutover", runId: `run-${owner}` });

describe("FileLock", () => {
  test("acquire creates the lock file holding the holder; a second acquire names the holder", async () => {
    const lock = new FileLock(join(dir, "nested", "cutover.lock"));
    await lock.acquire(holder("alice"));
    expect(JSON.parse(await readFile(join(dir, "nested", "cutover.lock"), "utf8"))).toEqual(holder("alice"));
    expect(await lock.current()).toEqual(holder("alice"));
    const error = await new FileLock(lock.path).acquire(holder("bob")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).holder.owner).toBe("alice");
    expect(await readdir(join(dir, "nested"))).toEqual(["cutover.lock"]); // no temp files left behind
  });

  test("release only by the owner; breakLock by anyone, returning who held it", async () => {
    const lock = new FileLock(join(dir, "cutover.lock"));
    await lock.acquire(holder("alice"));
    await lock.release("bob");
    expect((await lock.current())?.owner).toBe("alice");
    await lock.release("alice");
    expect(await lock.current()).toBeNull();
    await lock.release("alice"); // idempotent
    await lock.acquire(holder("carol"));
    expect((await lock.breakLock())?.owner).toBe("carol");
    expect(await lock.breakLock()).toBeNull();
    await lock.acquire(holder("dave"));
  });

  test("many concurrent acquirers: exactly one wins", async () => {
    const path = join(dir, "cutover.lock");
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => new FileLock(path).acquire(holder(`p${i}`))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected").every((r) => (r as PromiseRejectedResult).reason instanceof LockHeldError)).toBe(true);
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  test("an unreadable lock file is still a held lock", async () => {
    const path = join(dir, "cutover.lock");
    await writeFile(path, "garbage");
    const lock = new FileLock(path);
    expect((await lock.current())?.owner).toMatch(/unknown/);
    await expect(lock.acquire(holder("alice"))).rejects.toThrow(LockHeldError);
  });
});

describe("FileJournal", () => {
  test("load returns null when there is none; save then load round-trips", async () => {
    const store = new FileJournal(join(dir, "state", "journal.json"));
    expect(await store.load()).toBeNull();
    await store.save({ a: 1, nested: { b: [1, 2] } });
    expect(await store.load()).toEqual({ a: 1, nested: { b: [1, 2] } });
    await store.save({ a: 2 });
    expect(await store.load()).toEqual({ a: 2 });
    expect(await readdir(join(dir, "state"))).toEqual(["journal.json"]);
  });

  test("text that is not JSON comes back as text, which the engine reports as corrupt", async () => {
    const path = join(dir, "journal.json");
    await writeFile(path, '{"format": "bluegreen-cutover-journal", "vers');
    const raw = await new FileJournal(path).load();
    expect(typeof raw).toBe("string");
    expect(() => parseJournal(raw)).toThrow(JournalCorruptError);
  });

  test("concurrent saves never leave a torn document", async () => {
    const store = new FileJournal(join(dir, "journal.json"));
    const big = (n: number) => ({ n, payload: "x".repeat(200_000) });
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.save(big(i))));
    const loaded = (await store.load()) as { n: number; payload: string };
    expect(loaded.payload).toHaveLength(200_000);
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});

describe("the engine over the file adapters", () => {
  test("cutover, lock contention across 'processes', and rollback with --force", async () => {
    const world = new FakeWorld();
    const lockPath = join(dir, ".bluegreen", "prod.lock");
    const journalPath = join(dir, ".bluegreen", "prod.journal.json");
    const deps = () => world.deps({ lock: new FileLock(lockPath), journal: new FileJournal(journalPath) });

    const result = await runCutover(deps(), { rollout: testRollout({ strategy: { type: "all-at-once" } }), databaseMode: "shared", owner: "alice pid 1" });
    expect(result.outcome).toBe("succeeded");
    expect(parseJournal(await new FileJournal(journalPath).load()).phase).toBe("succeeded");
    expect(await new FileLock(lockPath).current()).toBeNull();

    await new FileLock(lockPath).acquire({ owner: "bob pid 2", since: world.clock.now(), operation: "cutover", runId: "bob" });
    await expect(runCutover(deps(), { rollout: testRollout(), databaseMode: "shared", owner: "carol pid 3" })).rejects.toThrow(/bob pid 2/);
    await expect(runRollback(deps(), { owner: "carol pid 3", databaseMode: "shared" })).rejects.toThrow(/bob pid 2/);
    const rollback = await runRollback(deps(), { owner: "carol pid 3", databaseMode: "shared", force: true });
    expect(rollback.outcome).toBe("rolled-back");
    expect(rollback.brokeLock?.owner).toBe("bob pid 2");
    expect(world.router.current()).toEqual({ blue: 100, green: 0 });
    expect(await new FileLock(lockPath).current()).toBeNull();
  });
});
