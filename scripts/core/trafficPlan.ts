// The traffic-aware plan (`cutover --dry-run`): the recent traffic per color, and per judged phase
// of a plan the expected time to a decision (the judge's own forecast), with a warning when a bake
// is too short to decide. Pure: the CLI reads MetricsSource.recentTraffic and prints the lines.

import { formatPercent } from "./format.js";
import { expectedTimeToDecision, judgedPhasesOf, resolveJudgeSettings } from "./judge/index.js";
import { formatDuration, type Plan } from "./plan.js";
import type { MetricsSample, MetricsWindow } from "./ports.js";

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
 * Per judged phase: the expected time to a decision at the recent traffic (H3a's
 * expectedTimeToDecision), and a warning when the bake is too short to decide. Sequential mode only.
 */
export function describeTimeToDecision(plan: Plan, traffic: RecentTraffic | null, failure: string | null = null): string[] {
  if (plan.gates.mode === "thresholds") return [];
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
  const settings = resolveJudgeSettings(plan.gates, { judgedPhases: judgedPhasesOf(plan) });
  const minutes = (m: number | null) => (m === null ? "never" : formatDuration(Math.max(1000, Math.round(m * 60_000))));
  const phases = [
    ...plan.steps.filter((step) => step.bakeMs > 0).map((step) => ({ label: `step ${step.index + 1} (green ${step.weights.green}%)`, share: step.weights.green / 100, bakeMs: step.bakeMs })),
    ...(plan.monitorMs > 0 ? [{ label: "monitoring (green 100%)", share: 1, bakeMs: plan.monitorMs }] : []),
  ];
  for (const phase of phases) {
    const t = expectedTimeToDecision(settings, perMinute, phase.share, baseline);
    lines.push(
      `  - ${phase.label}: ~${Math.round(t.greenPerMinute)} green req/min; an identical release rules out ×${settings.largestRegression} in ${minutes(t.ruleOutLargeMinutes)} ` +
        `(×${settings.errors.minRatio} errors / ×${settings.slow.minRatio} slow in ${minutes(t.ruleOutMinimalMinutes)}); a ×${settings.largestRegression} regression is caught in ${minutes(t.detectLargeMinutes)}, ` +
        `×${settings.errors.minRatio} in ${minutes(t.detectMinimalMinutes)}`,
    );
    const bakeMinutes = phase.bakeMs / 60_000;
    const limitMinutes = (phase.bakeMs + settings.maxExtensions * plan.pollMs) / 60_000;
    if (t.ruleOutLargeMinutes === null || t.ruleOutLargeMinutes > limitMinutes) {
      lines.push(
        `    WARNING: too short to decide: ruling out ×${settings.largestRegression} needs ${minutes(t.ruleOutLargeMinutes)}, more than the bake plus ${settings.maxExtensions} extension(s) (${formatDuration(limitMinutes * 60_000)}): ` +
          `this step will ${settings.onUndecided === "promote" ? "promote undecided" : "fail with \"not enough traffic to decide\""} unless traffic grows`,
      );
    } else if (t.ruleOutLargeMinutes > bakeMinutes) {
      lines.push(`    note: the bake (${formatDuration(phase.bakeMs)}) is shorter than the ${minutes(t.ruleOutLargeMinutes)} a decision needs: it will extend`);
    }
  }
  return lines;
}
