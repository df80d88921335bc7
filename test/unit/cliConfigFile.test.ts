import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStackConfig, PulumiConfigWeightRecorder, readConfigWeights, withWeights } from "../../scripts/app/pulumiConfigFile.js";
import { filledProdConfig } from "../support/prodConfig.js";

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function copyOfProd(): Promise<{ dir: string; path: string; original: string }> {
  const dir = await mkdtemp(join(tmpdir(), "bluegreen-config-"));
  made.push(dir);
  const path = join(dir, "Pulumi.prod.yaml");
  const original = filledProdConfig();
  await writeFile(path, original);
  return { dir, path, original };
}

describe("Pulumi.<stack>.yaml write-back", () => {
  it("changes only the two weight lines: comments, flow sequences and order are kept", async () => {
    const { path, original } = await copyOfProd();
    await new PulumiConfigWeightRecorder(path).record({ blue: 75, green: 25 });
    const updated = await readFile(path, "utf8");
    const before = original.split("\n");
    const after = updated.split("\n");
    expect(after).toHaveLength(before.length);
    const changed = before.flatMap((line, i) => (line === after[i] ? [] : [[line.trim(), after[i]!.trim()]]));
    expect(changed).toEqual([
      ["blue: 100", "blue: 75"],
      ["green: 0", "green: 25"],
    ]);
    expect(updated).toContain("# Example production stack");
    expect(updated).toContain("steps: [5, 25, 100]");
    expect(await readConfigWeights(path)).toEqual({ blue: 75, green: 25 });
    // still a valid stack config
    expect((await loadStackConfig(path)).traffic.weights).toEqual({ blue: 75, green: 25 });
  });

  it("writes atomically: no temporary file left behind, and a no-op when nothing changes", async () => {
    const { dir, path, original } = await copyOfProd();
    await new PulumiConfigWeightRecorder(path).record({ blue: 100, green: 0 });
    expect(await readFile(path, "utf8")).toBe(original);
    await new PulumiConfigWeightRecorder(path).record({ blue: 0, green: 100 });
    expect(await readdir(dir)).toEqual(["Pulumi.prod.yaml"]);
  });

  it("refuses a file without bluegreen:traffic", async () => {
    await expect(withWeights("x.yaml", "config:\n  aws:region: eu-west-1\n", { blue: 100, green: 0 })).rejects.toThrow(/no config\."bluegreen:traffic"/);
  });

  it("loading names the file when it is missing", async () => {
    await expect(loadStackConfig("/nonexistent/Pulumi.nope.yaml")).rejects.toThrow(/Pulumi\.nope\.yaml does not exist/);
  });
});
