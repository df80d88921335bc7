// docs/config-reference.md is generated from the schema; this keeps the committed file in step.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS } from "../../infra/config.js";
import { REFERENCE_PATH, referenceRows, renderReference } from "../../infra/configReference.js";

describe("config reference", () => {
  it("is committed exactly as generated (regenerate: npx tsx infra/configReference.ts --write)", () => {
    expect(readFileSync(REFERENCE_PATH, "utf8")).toBe(renderReference());
  });

  it("documents every section and the keys operators set most", () => {
    const paths = referenceRows().map((row) => row.path);
    for (const key of ["region", ...CONFIG_KEYS]) expect(paths).toContain(key);
    for (const path of [
      "traffic.weights.blue",
      "database.mode",
      "app.green.enabled",
      "app.green.environment",
      "network.natGateways",
      "app.alarms.errorRateThreshold",
      "rollout.gates.warmupSeconds",
      "rollout.hooks[].command",
    ]) {
      expect(paths).toContain(path);
    }
  });

  it("shows types, defaults and the validation messages", () => {
    const row = (path: string) => referenceRows().find((r) => r.path === path)!;
    expect(row("app.deregistrationDelaySeconds")).toMatchObject({ type: "integer", default: 30, rules: ["0–3600"] });
    expect(row("database.backupRetentionDays")).toMatchObject({ default: 7, rules: ["7–35"] });
    expect(row("database.mode")).toMatchObject({ type: '"shared" | "paired"', required: true });
    expect(row("network.vpcId")).toMatchObject({ when: "mode: existing", rules: ["must be a VPC id such as vpc-0abc1234"] });
    expect(row("traffic.https.sslPolicy").rules).toContain("must be a TLS 1.3 policy with TLS 1.2 as minimum, such as ELBSecurityPolicy-TLS13-1-2-2021-06");
    expect(renderReference()).toContain("| `traffic.weights` | blue + green must be 100 |");
  });
});
