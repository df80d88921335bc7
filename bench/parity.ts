// `npm run bench:parity [-- --rows N] [--repeat K] [--parallel P]`
// Two real PostgreSQL servers, one table pair of mixed types with N rows each. Prints wall
// time, rows/s and peak memory for (a) identical tables and (b) 5 scattered differences,
// and the bare server-side hash pass over both servers at once (the speed limit). The bare
// pass and parity alternate, so both see the same machine load.

import { Command } from "commander";
import { wholeNumber } from "./benchArgs.js";
import pg from "pg";
import { startPostgres, type LocalPostgres } from "../scripts/local/embeddedPostgres.js";
import { runParity, type ParityReport } from "../scripts/postgres/parity/index.js";

const TABLE = "public.bench";
const COLUMNS = "id, account, name, amount, created, active, ref, note";

const program = new Command("bench:parity")
  .option("--rows <n>", "rows per server", wholeNumber(1, 1_000_000_000), 2_000_000)
  .option("--repeat <n>", "runs per measurement (median and best are reported)", wholeNumber(1, 1000), 5)
  // Default 1 here, not the CLI's 2: both servers and parity share this machine's two cores, so a
  // second scan worker per server oversubscribes them (measured: (a) 0.83 s at 1 vs 1.53 s at 2).
  // On two separate database servers the CLI's default of 2 splits each scan across two cores.
  .option("--parallel <n>", "parity connections per database", wholeNumber(1, 64), 1)
  .parse();
const opts = program.opts<{ rows: number; repeat: number; parallel: number }>();

async function sql(server: LocalPostgres, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function load(server: LocalPostgres, rows: number): Promise<void> {
  await sql(
    server,
    `CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, account int NOT NULL, name text NOT NULL, amount numeric(12,2),
       created timestamptz NOT NULL, active boolean NOT NULL, ref uuid, note text);
     INSERT INTO ${TABLE}
     SELECT g, g % 1000, 'customer-' || g, (g % 100000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second',
            g % 3 = 0, md5(g::text)::uuid, CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || (g % 97) END
     FROM generate_series(1, ${rows}) g;`,
  );
  await sql(server, `VACUUM ANALYZE ${TABLE}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

/** One parity run with the process RSS sampled every 5 ms. */
async function once(fn: () => Promise<ParityReport>): Promise<{ ms: number; report: ParityReport; peak: number }> {
  global.gc?.();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const t0 = performance.now();
  const report = await fn();
  const ms = performance.now() - t0;
  clearInterval(sampler);
  return { ms, report, peak: Math.max(peak, process.memoryUsage.rss()) };
}

function line(label: string, times: number[], rows: number, peak?: number): void {
  const wall = median(times);
  console.log(
    `${label.padEnd(24)} median ${sec(wall)}, best ${sec(Math.min(...times))} (runs: ${times.map((t) => (t / 1000).toFixed(3)).join(", ")})` +
      (peak !== undefined ? `\n${" ".repeat(25)}${Math.round(rows / (wall / 1000)).toLocaleString("en-US")} rows/s per side, peak RSS ${mb(peak)}` : ""),
  );
}

async function measure(label: string, fn: () => Promise<ParityReport>, bare: () => Promise<number>, rows: number) {
  const times: number[] = [];
  const bares: number[] = [];
  let peak = 0;
  let report!: ParityReport;
  for (let i = 0; i < opts.repeat; i++) {
    bares.push(await bare());
    const r = await once(fn);
    times.push(r.ms);
    report = r.report;
    peak = Math.max(peak, r.peak);
  }
  line(label, times, rows, peak);
  return { times, report, bares };
}

async function main(): Promise<void> {
  const rows = opts.rows;
  console.log(
    `parity benchmark: ${rows.toLocaleString("en-US")} rows per server, ${TABLE} (${COLUMNS}), --parallel ${opts.parallel}, ${opts.repeat} runs each`,
  );
  const [blue, green] = await Promise.all([startPostgres({ label: "bench-blue" }), startPostgres({ label: "bench-green" })]);
  const clients: pg.Client[] = [];
  try {
    const t0 = performance.now();
    await Promise.all([load(blue, rows), load(green, rows)]);
    console.log(`loaded in ${sec(performance.now() - t0)}; baseline RSS ${mb(process.memoryUsage.rss())}`);
    const run = () => runParity({ blueUrl: blue.url(), greenUrl: green.url(), parallelism: opts.parallel });

    for (const server of [blue, green]) {
      const c = new pg.Client({ connectionString: server.url() });
      await c.connect();
      await c.query("SET max_parallel_workers_per_gather = 0");
      clients.push(c);
    }
    const bare = async () => {
      const start = performance.now();
      await Promise.all(clients.map((c) => c.query(`SELECT count(*), sum(hash_record_extended(ROW(${COLUMNS}), 0)) FROM ${TABLE}`)));
      return performance.now() - start;
    };
    await bare(); // warm the caches

    const a = await measure("(a) identical", run, bare, rows);
    if (!a.report.identical) throw new Error(`expected identical tables: ${a.report.summary}`);
    line("bare hash pass (both)", a.bares, rows);

    const at = (f: number) => Math.max(1, Math.floor(rows * f));
    const expected = {
      changed: [at(0.1), at(0.5) + 3, at(0.9) + 7].map(String),
      missing: [String(at(0.3) + 1)],
      extra: [String(rows + 1)],
    };
    await sql(
      green,
      `UPDATE ${TABLE} SET note = 'changed' WHERE id = ${expected.changed[0]};
       UPDATE ${TABLE} SET amount = amount + 0.01, active = NOT active WHERE id = ${expected.changed[1]};
       UPDATE ${TABLE} SET created = created + interval '1 microsecond' WHERE id = ${expected.changed[2]};
       DELETE FROM ${TABLE} WHERE id = ${expected.missing[0]};
       INSERT INTO ${TABLE} VALUES (${expected.extra[0]}, 1, 'new', 1.00, now(), true, NULL, NULL);`,
    );
    const b = await measure("(b) 5 differences", run, bare, rows);
    const t = b.report.tables.find((x) => x.table === TABLE)!;
    const found = {
      changed: t.changed.rows.map((r) => r.key.id!),
      missing: t.missingOnGreen.keys.map((k) => k.id!),
      extra: t.extraOnGreen.keys.map((k) => k.id!),
    };
    console.log(`    changed: ${t.changed.rows.map((r) => `id=${r.key.id} (${r.columns.map((c) => c.column).join(", ")})`).join("; ")}`);
    console.log(`    missing on green: id=${found.missing.join(", ")}; extra on green: id=${found.extra.join(", ")}`);
    const exact = JSON.stringify(found) === JSON.stringify(expected);
    console.log(`    exact keys found: ${exact ? "yes" : `NO (expected ${JSON.stringify(expected)})`}`);
    console.log(
      `ratio (a) / bare hash pass: ${(median(a.times) / median(a.bares)).toFixed(2)} (medians), ${(Math.min(...a.times) / Math.min(...a.bares)).toFixed(2)} (best runs)`,
    );
    if (!exact) process.exitCode = 1;
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await Promise.all([blue.stop(), green.stop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
