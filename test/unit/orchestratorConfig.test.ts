// rollout.orchestrator and rollout.release in the stack config: the default, what the schema
// accepts, and the rules across keys (hooks, paired databases, a release without the orchestrator).

import { describe, expect, test } from "vitest";
import { ConfigError, parseStackConfig } from "../../infra/config.js";

const minimal = (rollout: Record<string, unknown> = {}, databaseMode: "shared" | "paired" = "shared") => ({
  region: "eu-west-1",
  network: { mode: "create", availabilityZones: ["eu-west-1a", "eu-west-1b"] },
  app: { blue: { amiId: "ami-0abc12345def67890", userData: "x" }, green: { amiId: "ami-0abc12345def67890", userData: "x" } },
  database: { mode: databaseMode },
  traffic: { weights: { blue: 100, green: 0 } },
  rollout: databaseMode === "paired" ? { strategy: { type: "all-at-once" }, ...rollout } : rollout,
});

const issues = (raw: unknown) => {
  try {
    parseStackConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
};

describe("rollout.orchestrator", () => {
  test("defaults to the local process; stepfunctions is opt-in", () => {
    expect(parseStackConfig(minimal()).rollout.orchestrator).toBe("local");
    expect(parseStackConfig(minimal({ orchestrator: "stepfunctions" })).rollout.orchestrator).toBe("stepfunctions");
    expect(issues(minimal({ orchestrator: "cron" }))).toEqual([
      { path: "rollout.orchestrator", message: 'must be "local" (the cutover process) or "stepfunctions" (docs/orchestrated.md)' },
    ]);
  });

  test("stepfunctions refuses hooks (the advance Lambda has no checkout) and takes paired databases (the switch runs in the Lambda)", () => {
    const hooks = [{ name: "smoke", command: "./smoke.sh" }];
    expect(issues(minimal({ orchestrator: "stepfunctions", hooks }))).toEqual([
      { path: "rollout.hooks", message: expect.stringMatching(/must be empty with orchestrator "stepfunctions"/) },
    ]);
    expect(issues(minimal({ hooks }))).toEqual([]);
    expect(issues(minimal({ orchestrator: "stepfunctions" }, "paired"))).toEqual([]);
    // Paired still means all-at-once, whoever drives it.
    expect(issues(minimal({ orchestrator: "stepfunctions", strategy: { type: "canary", steps: [5, 100] } }, "paired"))).toEqual([
      { path: "rollout.strategy.type", message: expect.stringMatching(/^"canary" is refused with database.mode "paired"/) },
    ]);
    expect(issues(minimal({}, "paired"))).toEqual([]);
  });
});

describe("rollout.release", () => {
  const stacks = [
    { stack: "prod-eu", region: "eu-west-1" },
    { stack: "prod-us", region: "us-east-1" },
  ];

  test("fills its defaults and needs the stepfunctions orchestrator", () => {
    const release = parseStackConfig(minimal({ orchestrator: "stepfunctions", release: { waves: 2, stacks } })).rollout.release;
    expect(release).toEqual({ waves: 2, maxConcurrency: 1, bakeSeconds: 3600, stacks });
    expect(issues(minimal({ release: { waves: 2, stacks } }))).toEqual([
      { path: "rollout.release", message: expect.stringMatching(/needs orchestrator "stepfunctions"/) },
    ]);
  });

  test("refuses what cannot name a rollout machine", () => {
    const found = issues(
      minimal({ orchestrator: "stepfunctions", release: { waves: 0, maxConcurrency: 41, stacks: [{ stack: "prod;rm", region: "Europe" }], extra: 1 } }),
    ).map((issue) => issue.path);
    expect(found).toEqual(
      expect.arrayContaining([
        "rollout.release.waves",
        "rollout.release.maxConcurrency",
        "rollout.release.stacks.0.stack",
        "rollout.release.stacks.0.region",
        "rollout.release",
      ]),
    );
    expect(issues(minimal({ orchestrator: "stepfunctions", release: { waves: 1, stacks: [] } }))).toEqual([
      { path: "rollout.release.stacks", message: "must list at least one stack" },
    ]);
  });
});
