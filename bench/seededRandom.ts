// The seeded uniform source of the simulations (bench/judgeSimulation.ts) and the published-metrics
// fake (test/support/publishedMetrics.ts): the same seed gives the same draws on every machine.

/** mulberry32: small, fast, seeded; good enough for Monte Carlo counts. Uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
