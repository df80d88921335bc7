// `status` as text: one renderer per section, in the order they print (RENDERERS); a section
// added to the report gets its renderer here.

import type { Weights } from "../../core/ports.js";
import { bytes as formatBytes } from "../../postgres/sync/format.js";
import type { Palette } from "../plainPrinter.js";
import type { StatusReport } from "./report.js";
import { renderExecutionSection } from "../executionStatus.js";

type Renderer = (r: StatusReport, p: Palette) => string[];

const errorText = (p: Palette, s: { ok: false; error: string }) => p.red(`error: ${s.error}`);
const weightsText = (p: Palette, x: Weights) => `${p.blue(`blue ${x.blue}`)} / ${p.green(`green ${x.green}`)}`;

const renderHeader: Renderer = (r, p) => [p.bold(`stack ${r.stack}`) + ` · ${r.region} · database ${r.databaseMode}`];

/** Side by side: live (the ALB), the parameter (the owner, what `pulumi up` applies), the config (the seed). */
const renderTraffic: Renderer = (r, p) => {
  const out = [p.bold("traffic")];
  const w = (x: Weights) => weightsText(p, x);
  const mark = (d: boolean | null, what: string) => (d === true ? p.yellow(`  ≠ ${what}`) : "");
  if (r.routes.ok) {
    for (const route of r.routes.value) {
      const sticky = route.stickinessSeconds ? ` · stickiness ${route.stickinessSeconds}s` : "";
      out.push(
        `  live ${route.route.split(":").at(-1)}: ${w(route.weights)}${sticky}${mark(route.differs.parameter, "parameter")}${mark(route.differs.config, "config")}`,
      );
    }
  } else out.push(`  live: ${errorText(p, r.routes)}`);
  if (r.parameterWeights.ok) {
    const v = r.parameterWeights.value;
    out.push(
      `  parameter ${v.name}: ${!v.exists ? p.yellow("absent (the next `pulumi up` creates it from the config)") : v.weights ? w(v.weights) : p.red("not valid weights JSON (`pulumi up` refuses to run)")}`,
    );
  } else out.push(`  parameter: ${errorText(p, r.parameterWeights)}`);
  out.push(
    `  config (${r.configPath}, seed only): ${r.configWeights.ok ? (r.configWeights.value ? w(r.configWeights.value) : p.yellow("no valid bluegreen:traffic.weights")) : errorText(p, r.configWeights)}`,
  );
  if (r.drift && r.pulumiUpWeights) {
    out.push(
      p.yellow(
        `  DRIFT: live weights differ from what \`pulumi up\` applies (${r.pulumiUpWeights.blue}/${r.pulumiUpWeights.green}): an up now would move traffic; run cutover/rollback, or put the live weights in the parameter`,
      ),
    );
  }
  if (r.configDiffersFromParameter)
    out.push(`  note: the config's weights differ from the parameter's: harmless, the parameter owns them (the config only seeds a new stack)`);
  return out;
};

const renderHealth: Renderer = (r, p) => {
  const out = [p.bold("target health")];
  for (const color of ["blue", "green"] as const) {
    const h = r.health[color];
    if (!h.ok) {
      out.push(`  ${color}: ${errorText(p, h)}`);
      continue;
    }
    const summary = `${h.value.healthy}/${h.value.total} healthy${h.value.unhealthy ? `, ${h.value.unhealthy} unhealthy` : ""}`;
    const painted = h.value.unhealthy > 0 || (h.value.total > 0 && h.value.healthy === 0) ? p.red(summary) : summary;
    const others = h.value.targets.filter((t) => t.state !== "healthy").map((t) => `${t.id} ${t.state}${t.reason ? ` (${t.reason})` : ""}`);
    out.push(`  ${color === "blue" ? p.blue(color) : p.green(color)}: ${painted}${others.length ? ` — ${others.join(", ")}` : ""}`);
  }
  return out;
};

const renderAlarms: Renderer = (r, p) => {
  const out = [p.bold("alarms")];
  if (!r.alarms.ok) return [...out, `  ${errorText(p, r.alarms)}`];
  if (r.alarms.value.length === 0) out.push("  (the stack declares none)");
  for (const alarm of r.alarms.value) {
    const state = alarm.state === "ALARM" ? p.red(alarm.state) : alarm.state === "OK" ? p.green(alarm.state) : p.yellow(alarm.state);
    out.push(`  ${state.padEnd(18)} ${alarm.name}`);
  }
  return out;
};

const renderFence: Renderer = (r, p) => {
  if (!r.fence) return [];
  if (!r.fence.ok) return [p.bold("write fence"), `  ${errorText(p, r.fence)}`];
  return [p.bold("write fence"), ...r.fence.value.map((rule) => `  ${rule.mode === "off" ? "off" : p.yellow(rule.mode)} ${rule.rule.split(":").at(-1)}`)];
};

const renderLock: Renderer = (r, p) => {
  if (!r.lock.ok) return [p.bold("lock"), `  ${errorText(p, r.lock)}`];
  const holder = r.lock.value;
  return [p.bold("lock"), holder ? `  held by ${holder.owner} (${holder.operation}) since ${new Date(holder.since).toISOString()}` : "  free"];
};

const renderLastRun: Renderer = (r, p) => {
  if (!r.lastRun.ok) return [p.bold("last run"), `  ${errorText(p, r.lastRun)}`];
  const run = r.lastRun.value;
  const out = [
    p.bold("last run"),
    run ? `  ${run.operation} ${run.runId}: phase ${run.phase}${run.outcome ? `, ${run.outcome}` : ""} (updated ${run.updatedAt})` : "  none",
  ];
  if (run?.pause) out.push(`  ${p.bold(run.pause.line)}`, ...(run.pause.evidence ? [`  evidence: ${run.pause.evidence}`] : []));
  if (run?.last) out.push(`  last entry: ${run.last}`);
  return out;
};

const renderReplication: Renderer = (r, p) => {
  if (!r.replication) return [];
  const out = [p.bold("replication")];
  for (const [direction, label] of [
    ["blue-to-green", `${p.blue("blue")} → ${p.green("green")}`],
    ["green-to-blue", `${p.green("green")} → ${p.blue("blue")}`],
  ] as const) {
    const s = r.replication[direction];
    if (!s.ok) {
      out.push(`  ${label}: ${s.unreachable ? p.yellow(`unreachable: ${s.error}`) : errorText(p, s)}`);
      continue;
    }
    const v = s.value;
    if (v === null) {
      out.push(`  ${label}: not set up${direction === "green-to-blue" ? " (the paired switch starts it)" : ""}`);
      continue;
    }
    const state = v.running ? (v.healthy ? p.green("running") : p.yellow("running")) : p.red(v.enabled ? "NOT running" : "NOT running (disabled)");
    const lag = `lag ${formatBytes(v.lagBytes)}, ${v.lagSeconds === null ? "unknown" : `${v.lagSeconds.toFixed(1)} s`}`;
    const tables = `tables ${v.tablesReady}/${v.tablesTotal} ready`;
    out.push(`  ${label}: ${state} · ${lag} · ${v.tablesReady < v.tablesTotal ? p.yellow(tables) : tables}`);
    for (const problem of v.problems) out.push(`    ${p.yellow(problem)}`);
  }
  return out;
};

/** The sections in the order they print; one blank line between sections that print anything. */
export const RENDERERS: readonly Renderer[] = [
  renderHeader,
  renderTraffic,
  renderHealth,
  renderAlarms,
  renderFence,
  renderLock,
  renderLastRun,
  (r, p) => (r.execution ? renderExecutionSection(r.execution, p).filter((line, i) => i > 0 || line !== "") : []),
  renderReplication,
];

export function renderStatus(r: StatusReport, p: Palette): string {
  const blocks = RENDERERS.map((render) => render(r, p)).filter((lines) => lines.length > 0);
  return `${blocks.map((lines) => lines.join("\n")).join("\n\n")}\n`;
}
