// `npm run bench:parity [-- --rows N --wide-rows N --repeat K --parallel P --only narrow,jsonb,wide]`
// Two real PostgreSQL servers and three table pairs: narrow (8 columns of mixed types, N rows),
// jsonb (a ~500-byte document per row, N rows) and wide (50 columns, --wide-rows rows). For each,
// parity over that table and the bare hash pass (count and sum of hash_record_extended over each
// row, on both servers at once: the speed limit) alternate, in turned order from one repetition to
// the next, so both see the same machine load. The bare pass runs on a new connection per server,
// as parity's own are (a new server backend's first scan is slower than its later ones), and also
// on long-lived warm connections. Each run is measured twice: wall time, and CPU time (both
// servers' backends, read from /proc, plus parity's own process: parityCpu.ts), which on a shared
// machine varies far less than wall time. Printed side by side: the medians, their ratios and the
// per-run ratios, parity's peak RSS and where parity's time goes (connect + snapshot, catalog,
// hashing); at the end the ratios against the 1.3× target and the memory against 200 MB. Then
// five scattered differences in the narrow table must be found by their exact keys. Bad input
// (e.g. --rows -1) exits 2.

import { Command, InvalidArgumentError } from "commander";
import pg from "pg";
import { loadavg } from "node:os";
import type { LocalPostgres } from "../scripts/local/embeddedPostgres.js";
import { startBenchServers } from "./benchServers.js";
import { awaitReaped, backendCpuMs, postmasterOf } from "./parityCpu.js";
import { mb, measure, printRow, printSummary, sec, type RowSummary, type Timing } from "./parityMeasure.js";
import { runParity, type ParityProgress, type ParityReport } from "../scripts/postgres/parity/index.js";

interface BenchTable {
  id: "narrow" | "jsonb" | "wide";
  name: string;
  /** The bare pass's row: every column as parity compares it (jsonb as its text). */
  row: string;
  create: string;
  fill: (rows: number) => string;
}

const WIDE_COLUMNS = Array.from({ length: 49 }, (_, i) => {
  const kinds = ["int", "bigint", "text", "numeric(12,2)", "timestamptz"] as const;
  const kind = kinds[i % kinds.length]!;
  const value = {
    int: `(g % ${1000 + i})::int`,
    bigint: `g * ${i + 1}`,
    text: `'v${i}-' || (g % 997)`,
    "numeric(12,2)": `(g % 100000) / 100.0 + ${i}`,
    timestamptz: `'2024-01-01'::timestamptz + (g + ${i}) * interval '1 second'`,
  }[kind];
  return { name: `c${i + 1}`, kind, value };
});

const TABLES: BenchTable[] = [
  {
    id: "narrow",
    name: "public.bench",
    row: "id, account, name, amount, created, active, ref, note",
    create: `CREATE TABLE public.bench (id bigint PRIMARY KEY, account int NOT NULL, name text NOT NULL, amount numeric(12,2),
       created timestamptz NOT NULL, active boolean NOT NULL, ref uuid, note text)`,
    fill: (rows) => `INSERT INTO public.bench
     SELECT g, g % 1000, 'customer-' || g, (g % 100000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second',
            g % 3 = 0, md5(g::text)::uuid, CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || (g % 97) END
     FROM generate_series(1, ${rows}) g`,
  },
  {
    id: "jsonb",
    name: "public.bench_docs",
    row: "id, doc::text",
    create: "CREATE TABLE public.bench_docs (id bigint PRIMARY KEY, doc jsonb NOT NULL)",
    // About 500 bytes of text per document: nested object, array, numbers with scale, strings.
    fill: (rows) => `INSERT INTO public.bench_docs
     SELECT g, jsonb_build_object('id', g, 'customer', jsonb_build_object('name', 'customer-' || g, 'email', 'c' || g || '@example.com', 'tier', g % 4),
              'items', jsonb_build_array(jsonb_build_object('sku', 'sku-' || (g % 1000), 'qty', g % 7, 'price', ((g % 10000) / 100.0)),
                                         jsonb_build_object('sku', 'sku-' || (g % 333), 'qty', 1, 'price', 9.90)),
              'note', repeat('lorem ipsum ', 12 + g % 5), 'created', '2024-01-01'::timestamptz + g * interval '1 second', 'paid', g % 2 = 0)
     FROM generate_series(1, ${rows}) g`,
  },
  {
    id: "wide",
    name: "public.bench_wide",
    row: ["id", ...WIDE_COLUMNS.map((c) => c.name)].join(", "),
    create: `CREATE TABLE public.bench_wide (id bigint PRIMARY KEY, ${WIDE_COLUMNS.map((c) => `${c.name} ${c.kind}`).join(", ")})`,
    fill: (rows) => `INSERT INTO public.bench_wide SELECT g, ${WIDE_COLUMNS.map((c) => c.value).join(", ")} FROM generate_series(1, ${rows}) g`,
  },
];

function whole(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value.replace(/_/g, ""));
    if (!/^\d[\d_]*$/.test(value) || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

function only(value: string): BenchTable["id"][] {
  const ids = value.split(",").map((s) => s.trim());
  for (const id of ids) if (!TABLES.some((t) => t.id === id)) throw new InvalidArgumentError(`unknown table "${id}" (narrow, jsonb, wide)`);
  return ids as BenchTable["id"][];
}

interface Options {
  rows: number;
  wideRows: number;
  repeat: number;
  parallel: number;
  only: BenchTable["id"][];
}

function parseOptions(): Options {
  const program = new Command("bench:parity")
    // Bounded: two servers on one machine's disk (10M narrow rows are about 1.3 GB per server).
    .option("--rows <n>", "rows per server in the narrow and the jsonb table", whole(1, 10_000_000), 2_000_000)
    .option("--wide-rows <n>", "rows per server in the 50-column table", whole(1, 2_000_000), 500_000)
    .option("--repeat <n>", "runs per measurement (medians are reported)", whole(1, 15), 5)
    // Default 1, not the CLI's 2: both servers and parity share this machine's two cores, so a second
    // scan worker per server oversubscribes them. On two separate servers the CLI's 2 splits each scan.
    .option("--parallel <n>", "parity connections per database", whole(1, 64), 1)
    .option("--only <tables>", "comma-separated subset of narrow,jsonb,wide", only, ["narrow", "jsonb", "wide"] as BenchTable["id"][])
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse();
  } catch (error) {
    const e = error as { code?: string };
    process.exit(e.code === "commander.helpDisplayed" || e.code === "commander.version" ? 0 : 2);
  }
  return program.opts<Options>();
}

async function sql(server: LocalPostgres, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A connection for the bare pass: one scan per server, no parallel workers, as parity reads. */
async function connectBare(server: LocalPostgres): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  const res = await client.query<{ pid: number }>("SET max_parallel_workers_per_gather = 0; SELECT pg_backend_pid() AS pid");
  return { client, pid: (res as unknown as pg.QueryResult<{ pid: number }>[])[1]!.rows[0]!.pid };
}

/**
 * The bare pass: one query per server at once, on new connections or on `warm` ones. Timed (wall
 * and the backends' CPU) from the query on: a new connection's start-up is not counted against it.
 */
async function barePass(servers: LocalPostgres[], warm: Array<{ client: pg.Client; pid: number }>, query: string, fresh: boolean): Promise<Timing> {
  const conns = fresh ? await Promise.all(servers.map(connectBare)) : warm;
  const pids = conns.map((c) => c.pid);
  try {
    const cpu0 = backendCpuMs(pids);
    const start = performance.now();
    await Promise.all(conns.map((c) => c.client.query(query)));
    const wall = performance.now() - start;
    return { wall, cpu: backendCpuMs(pids) - cpu0 };
  } finally {
    if (fresh) {
      await Promise.all(conns.map((c) => c.client.end()));
      // Reaped before anything else is measured: else their CPU lands in the next measurement.
      await awaitReaped(pids);
    }
  }
}

/** Autovacuum off: its workers' CPU would be charged to whichever run they ended in (the tables are vacuumed after loading). */
async function quietServer(server: LocalPostgres): Promise<void> {
  await sql(server, "ALTER SYSTEM SET autovacuum = off");
  await sql(server, "SELECT pg_reload_conf()");
}

/** Five scattered differences in the narrow table; parity must name exactly these keys. */
async function differences(green: LocalPostgres, rows: number, run: () => Promise<ParityReport>): Promise<boolean> {
  const at = (f: number) => Math.max(1, Math.floor(rows * f));
  const expected = {
    changed: [...new Set([at(0.1), at(0.5) + 3, at(0.9) + 7])].filter((id) => id <= rows).map(String),
    missing: [String(Math.min(rows, at(0.3) + 1))],
    extra: [String(rows + 1)],
  };
  expected.changed = expected.changed.filter((id) => !expected.missing.includes(id));
  const [c0, c1, c2] = expected.changed;
  await sql(
    green,
    `UPDATE public.bench SET note = 'changed' WHERE id = ${c0 ?? 0};
     UPDATE public.bench SET amount = amount + 0.01, active = NOT active WHERE id = ${c1 ?? 0};
     UPDATE public.bench SET created = created + interval '1 microsecond' WHERE id = ${c2 ?? 0};
     DELETE FROM public.bench WHERE id = ${expected.missing[0]};
     INSERT INTO public.bench VALUES (${expected.extra[0]}, 1, 'new', 1.00, now(), true, NULL, NULL);`,
  );
  const t0 = performance.now();
  const report = await run();
  const ms = performance.now() - t0;
  const t = report.tables.find((x) => x.table === "public.bench")!;
  const found = {
    changed: t.changed.rows.map((r) => r.key.id!),
    missing: t.missingOnGreen.keys.map((k) => k.id!),
    extra: t.extraOnGreen.keys.map((k) => k.id!),
  };
  const exact = JSON.stringify(found) === JSON.stringify(expected);
  console.log(
    `(b) narrow, 5 differences: ${sec(ms)}; changed ${t.changed.rows.map((r) => `id=${r.key.id} (${r.columns.map((c) => c.column).join(", ")})`).join("; ")}`,
  );
  console.log(
    `    missing on green id=${found.missing.join(", ")}; extra on green id=${found.extra.join(", ")}; exact keys found: ${exact ? "yes" : `NO (expected ${JSON.stringify(expected)})`}`,
  );
  return exact;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const tables = TABLES.filter((t) => opts.only.includes(t.id));
  const rowsOf = (t: BenchTable) => (t.id === "wide" ? opts.wideRows : opts.rows);
  console.log(
    `parity benchmark: ${tables.map((t) => `${t.id} ${rowsOf(t).toLocaleString("en-US")} rows`).join(", ")} per server; ` +
      `--parallel ${opts.parallel}, ${opts.repeat} interleaved runs each (order turned every other round), medians`,
  );
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(" ");
  console.log(`machine: load average ${load()} (1, 5, 15 min)`);
  const bench = await startBenchServers(["bench-blue", "bench-green"]);
  const [blue, green] = bench.servers as [LocalPostgres, LocalPostgres];
  const clients: Array<{ client: pg.Client; pid: number }> = [];
  try {
    await Promise.all([blue, green].map(quietServer));
    const t0 = performance.now();
    for (const t of tables) {
      await Promise.all(
        [blue, green].map(async (server) => {
          await sql(server, t.create);
          await sql(server, t.fill(rowsOf(t)));
          await sql(server, `VACUUM ANALYZE ${t.name}`);
        }),
      );
    }
    console.log(`loaded in ${sec(performance.now() - t0)}; baseline RSS ${mb(process.memoryUsage.rss())}`);
    for (const server of [blue, green]) clients.push(await connectBare(server));
    const postmasters = clients.map((c) => postmasterOf(c.pid));
    const run = (include: string[]) => (onProgress?: (p: ParityProgress) => void) =>
      runParity({ blueUrl: blue.url(), greenUrl: green.url(), parallelism: opts.parallel, include, ...(onProgress ? { onProgress } : {}) });
    let exact = true;
    const summaries: RowSummary[] = [];
    for (const t of tables) {
      const query = `SELECT count(*), sum(hash_record_extended(ROW(${t.row}), 0)) FROM ${t.name}`;
      const bare = (fresh: boolean) => barePass([blue, green], clients, query, fresh);
      await bare(false); // warm the caches
      const m = await measure(run([t.name]), bare, postmasters, opts.repeat);
      const notIdentical = m.parity.find((p) => !p.report.identical);
      if (notIdentical) throw new Error(`expected identical tables: ${notIdentical.report.summary}`);
      summaries.push(printRow(t.id, rowsOf(t), m));
      console.log(`${" ".repeat(27)}load average now ${load()}`);
    }
    printSummary(summaries);
    if (tables.some((t) => t.id === "narrow")) exact = await differences(green, opts.rows, run(["public.bench"]));
    console.log(`machine: load average ${load()} at the end`);
    if (!exact) process.exitCode = 1;
  } finally {
    await Promise.all(clients.map((c) => c.client.end().catch(() => undefined)));
    await bench.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
