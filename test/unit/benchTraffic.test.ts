// The bench's traffic generators (bench/judgeTraffic.ts) do what their names say: a bench whose
// noise is not the noise it reports would measure nothing.
import { describe, expect, it } from "vitest";
import { BENCH_RELEASES, NOISES, SimulatedTraffic } from "../../bench/judgeTraffic.js";
import { seededRandom } from "../../bench/judgeSimulation.js";

const identical = BENCH_RELEASES.find((r) => r.name === "identical")!;
const noise = (name: string) => NOISES.find((n) => n.name === name)!;

function slowShares(name: string, minutes: number): number[] {
  const traffic = new SimulatedTraffic({ trafficPerMinute: 10_000, baselineErrorRate: 0.01, release: identical, noise: noise(name) }, seededRandom(5));
  traffic.setShare(0.5, 0);
  return Array.from({ length: minutes }, (_, minute) => {
    const w = traffic.window(minute);
    return (w.blue.slow! + w.green.slow!) / (w.blue.requests + w.green.requests);
  });
}

describe("bench traffic noises", () => {
  it("without noise 5% of requests are slow in every minute", () => {
    for (const share of slowShares("none", 200)) {
      expect(share).toBeGreaterThan(0.04);
      expect(share).toBeLessThan(0.06);
    }
  });

  it("stalls: in about 30% of minutes both colors' slow share jumps to about 40%", () => {
    const shares = slowShares("stalls 30% ×2", 1000);
    const stalled = shares.filter((s) => s > 0.2);
    expect(stalled.length / shares.length).toBeGreaterThan(0.25);
    expect(stalled.length / shares.length).toBeLessThan(0.35);
    for (const s of stalled) {
      expect(s).toBeGreaterThan(0.35);
      expect(s).toBeLessThan(0.45);
    }
    for (const s of shares.filter((x) => x <= 0.2)) expect(s).toBeLessThan(0.06);
  });
});
