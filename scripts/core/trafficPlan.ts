// The traffic-aware plan (`cutover --dry-run`): the recent traffic per color, and per judged phase
// of a plan the expected time to a decision (the judge's own forecast), with a warning when a bake
// is too short to decide. Pure: the CLI reads MetricsSource.recentTraffic and prints the lines.

import { formatPercent } from "./format.js";
import {
  expectedTimeToDecision,
  judgedPhasesOf,
  measuredDispersion,
  newJudgeState,
  resolveJudgeSettings,
  withBlueHistory,
  type MeasuredDispersion,
} from "./judge/index.js";
import { colorErrors } from "./judge/windowRules.js";
import { formatDuration, type Plan } from "./plan.js";
import type { MetricsSample, MetricsSource, MetricsWindow } from "./ports.js";
import { MAX_EXTRA_MS } from "./windowReader.js";

const percent = (fraction: number) => formatPercent(fraction);

/** Traffic over a recent window, per color (MetricsSource.recentTraffic), for the time-to-decision forecast. */
export interface RecentTraffic {
  /** Length of the window the counts cover, in minutes. */
  minutes: number;
  requests: number;
  /** 5xx of both colors (targets' and the load balancer's for them). */
  errors: number;
}

/** A MetricsSource.recentTraffic answer as the forecast's input: all requests, all 5xx (the targets', and the load balancer's). */
export function recentTrafficOf(sample: MetricsSample & { window: MetricsWindow }): RecentTraffic {
  const colorErrors = (c: MetricsSample["blue"]) => c.errors5xx + (c.elbErrors ?? 0);
  const attributed = (sample.blue.elbErrors ?? 0) + (sample.green.elbErrors ?? 0);
  const unattributed = sample.loadBalancer ? Math.max(0, sample.loadBalancer.elb5xx - attributed) : 0;
  return {
    minutes: Math.max(0, sample.window.end - sample.window.start) / 60_000,
    requests: sample.blue.requests + sample.green.requests,
    errors: colorErrors(sample.blue) + colorErrors(sample.green) + unattributed,
  };
}

/**
 * The last hour, for the plan: the traffic (MetricsSource.recentTraffic) and, where the source keeps
 * a per-window series, how much blue moved from window to window (the judge's dispersion). Never
 * throws: what could not be read is said in `failure` / a null dispersion.
 */
export async function readRecentTraffic(
  metrics: MetricsSource,
  periodMs: number,
): Promise<{ traffic: RecentTraffic | null; failure: string | null; dispersion: MeasuredDispersion | null }> {
  if (!metrics.recentTraffic) return { traffic: null, failure: "the metrics source keeps no history", dispersion: null };
  let recent: MetricsSample & { window: MetricsWindow };
  try {
    recent = await metrics.recentTraffic(1);
  } catch (error) {
    return {
      traffic: null,
      failure: `could not read the last hour of RequestCount: ${error instanceof Error ? error.message : String(error)}`,
      dispersion: null,
    };
  }
  let dispersion: MeasuredDispersion | null = null;
  if (metrics.series) {
    try {
      const series = await metrics.series(recent.window, Math.max(periodMs, metrics.resolutionMs));
      const history = series.map((s) => ({ end: s.window.end, requests: s.blue.requests, errors: colorErrors(s.blue), slow: null }));
      const measured = measuredDispersion(withBlueHistory(newJudgeState(), history).blue);
      dispersion = measured.windows > 0 ? measured : null;
    } catch {
      dispersion = null; // the plan then says it assumed the default
    }
  }
  return { traffic: recentTrafficOf(recent), failure: null, dispersion };
}

/**
 * Per judged phase: the expected time to a decision at the recent traffic and blue's measured
 * movement (the judge's forecast), the chance an identical release ends undecided, and a warning
 * when the bake is too short to decide.
 */
export function describeTimeToDecision(
  plan: Plan,
  traffic: RecentTraffic | null,
  failure: string | null = null,
  dispersion: MeasuredDispersion | null = null,
  publicationDelayMs = 0,
): string[] {
  const lines: string[] = [];
  if (failure !== null || traffic === null || traffic.minutes <= 0) {
    lines.push(`Time to a decision: unknown (${failure ?? "the metrics source has no recent traffic to go by"})`);
    return lines;
  }
  const perMinute = traffic.requests / traffic.minutes;
  const baseline = traffic.requests > 0 ? traffic.errors / traffic.requests : 0;
  lines.push(
    `Time to a decision, at the last ${formatDuration(traffic.minutes * 60_000)}'s traffic (${Math.round(perMinute)} req/min, 5xx ${percent(baseline)}):`,
  );
  if (perMinute <= 0) {
    lines.push("  WARNING: no requests in that time: no step can be decided (no data is never a pass)");
    return lines;
  }
  const settings = resolveJudgeSettings(plan.gates, { judgedPhases: judgedPhasesOf(plan), databaseMode: plan.databaseMode });
  lines.push(
    dispersion
      ? `  blue's 5xx rate moved by σ ≈ ${Math.sqrt(dispersion.reference.errors).toFixed(2)} (log scale) from minute to minute beyond counting noise, over ${dispersion.windows} minute(s); the forecast takes that into account`
      : "  blue's minute-to-minute movement is unknown here: the forecast assumes σ 0.3 per color (the judge's default without a history)",
  );
  const minutes = (m: number | null) => (m === null ? "never" : formatDuration(Math.max(1000, Math.round(m * 60_000))));
  const within = (m: number | null) => (m === null ? "never at this traffic" : `in ${minutes(m)}`);
  const phases = [
    ...plan.steps
      .filter((step) => step.bakeMs > 0)
      .map((step) => ({ label: `step ${step.index + 1} (green ${step.weights.green}%)`, share: step.weights.green / 100, bakeMs: step.bakeMs })),
    ...(plan.monitorMs > 0 ? [{ label: "monitoring (green 100%)", share: 1, bakeMs: plan.monitorMs }] : []),
  ];
  for (const phase of phases) {
    const windowsAllowed = Math.ceil(phase.bakeMs / plan.pollMs) + settings.maxExtensions;
    const extra = dispersion ? (phase.share >= 1 ? dispersion.reference : dispersion.concurrent) : undefined;
    const t = expectedTimeToDecision(settings, perMinute, phase.share, baseline, extra, windowsAllowed, plan.pollMs / 60_000);
    lines.push(
      `  - ${phase.label}: ~${Math.round(t.greenPerMinute)} green req/min; an identical release rules out ×${settings.largestRegression} in ${minutes(t.ruleOutLargeMinutes)} ` +
        `(×${settings.errors.minRatio} errors / ×${settings.slow.minRatio} slow in ${minutes(t.ruleOutMinimalMinutes)}); a ×${settings.largestRegression} regression is caught ${within(t.detectLargeMinutes)}, ` +
        `×${settings.errors.minRatio} ${within(t.detectMinimalMinutes)}; an identical release ends undecided ~${(t.undecidedChance * 100).toFixed(t.undecidedChance < 0.01 ? 1 : 0)}% of the time` +
        ` (plus ${formatDuration(settings.warmupMs)} of warm-up)`,
    );
    const bakeMinutes = phase.bakeMs / 60_000;
    const limitMinutes = (phase.bakeMs + settings.maxExtensions * plan.pollMs) / 60_000;
    // An identical release promotes once the smallest regression is ruled out (at 100%, and after the extensions: the large one).
    const promoteMinutes =
      phase.share < 1 && t.ruleOutMinimalMinutes !== null && t.ruleOutMinimalMinutes <= limitMinutes
        ? t.ruleOutMinimalMinutes
        : phase.share < 1
          ? limitMinutes
          : t.ruleOutLargeMinutes;
    lines.push(`    ${describeStepCost(plan.pollMs, bakeMinutes, limitMinutes, promoteMinutes, publicationDelayMs)}`);
    if (t.ruleOutLargeMinutes === null || t.ruleOutLargeMinutes > limitMinutes) {
      lines.push(
        `    WARNING: too short to decide: ruling out ×${settings.largestRegression} needs ${minutes(t.ruleOutLargeMinutes)}, more than the bake plus ${settings.maxExtensions} extension(s) (${formatDuration(limitMinutes * 60_000)}): ` +
          `this step will ${settings.onUndecided === "promote" ? "promote undecided" : 'fail with "not enough traffic to decide"'} unless traffic grows`,
      );
    } else if (t.ruleOutLargeMinutes > bakeMinutes) {
      lines.push(`    note: the bake (${formatDuration(phase.bakeMs)}) is shorter than the ${minutes(t.ruleOutLargeMinutes)} a decision needs: it will extend`);
    }
  }
  return lines;
}

/**
 * What a step costs in wall time at this traffic: the windows until an identical release is
 * ruled out (at least the bake, at most bake + extensions), and the wait for the last one to be
 * published (the source's delay, plus up to MAX_EXTRA_MS while the load balancer's nodes publish).
 */
export function describeStepCost(
  pollMs: number,
  bakeMinutes: number,
  limitMinutes: number,
  decisionMinutes: number | null,
  publicationDelayMs: number,
): string {
  const pollMinutes = pollMs / 60_000;
  const needed = Math.min(limitMinutes, Math.max(bakeMinutes, decisionMinutes ?? limitMinutes));
  const windows = Math.max(1, Math.ceil(needed / pollMinutes - 1e-9));
  const wallMs = windows * pollMs + publicationDelayMs;
  const published =
    publicationDelayMs > 0
      ? `, the last read ${formatDuration(publicationDelayMs)} after it ends (up to ${formatDuration(publicationDelayMs + MAX_EXTRA_MS)} while the load balancer's nodes publish)`
      : "";
  return `costs ~${formatDuration(wallMs)} of wall time: ${windows} window(s) of ${formatDuration(pollMs)}${published}`;
}
