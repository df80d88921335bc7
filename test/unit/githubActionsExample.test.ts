// The GitHub Actions example (examples/github-actions/cutover.yml), parsed with the yaml library:
// it previews with the policy pack, runs `npx bluegreen cutover --yes --json`, uploads the report
// (.html, .md, .json) even when the cutover failed, and passes secrets through the environment,
// never on a command line.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
}
interface Workflow {
  permissions: Record<string, string>;
  jobs: Record<string, { env?: Record<string, string>; steps: Step[] }>;
}

const workflow = parse(readFileSync(join(import.meta.dirname, "../../examples/github-actions/cutover.yml"), "utf8")) as Workflow;
const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
const runs = steps.flatMap((step) => (step.run ? [step.run] : []));

describe("examples/github-actions/cutover.yml", () => {
  test("previews with the policy pack before the cutover", () => {
    const preview = runs.findIndex((run) => /\bpulumi preview\b.*--policy-pack policy\b/.test(run));
    const cutover = runs.findIndex((run) => /\bnpx bluegreen cutover\b.*--yes\b/.test(run));
    expect(preview).toBeGreaterThanOrEqual(0);
    expect(cutover).toBeGreaterThan(preview);
    expect(runs[cutover]).toMatch(/--stack \S+.*--yes --json/);
  });

  test("uploads the report as an artifact, also after a failed (rolled back) cutover", () => {
    const upload = steps.find((step) => step.uses?.startsWith("actions/upload-artifact@"));
    expect(upload).toBeDefined();
    expect(upload!.if).toBe("always()");
    for (const extension of ["html", "md", "json"]) expect(upload!.with!.path).toContain(`reports/*.${extension}`);
  });

  test("secrets only through the environment: no secret expression on any command line", () => {
    for (const run of runs) expect(run).not.toMatch(/\$\{\{\s*secrets\./);
    const env = Object.values(workflow.jobs).flatMap((job) => Object.values(job.env ?? {}));
    expect(env.some((value) => /\$\{\{\s*secrets\.PULUMI_ACCESS_TOKEN\s*\}\}/.test(value))).toBe(true);
    expect(workflow.permissions["id-token"]).toBe("write"); // AWS credentials by OIDC, no stored key
  });
});
