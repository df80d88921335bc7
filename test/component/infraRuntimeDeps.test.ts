// `npm ci --omit=dev && pulumi up` must work: everything the Pulumi program (and the policy pack)
// loads at run time has to come from `dependencies`, never from devDependencies. Walks the import
// graph from infra/index.ts and policy/index.ts (static and dynamic imports, following relative
// ones into any directory) and checks every package it reaches, plus the loader Pulumi.yaml starts
// node with (`--import tsx`).
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
  main?: string;
};

/** import/export ... from "x", import "x", import("x") — type-only imports erased by tsx are skipped. */
const IMPORT = /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

function sourceOf(specifier: string, from: string): string | null {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base.replace(/\.js$/, ".ts"), base, `${base}.ts`, join(base, "index.ts")])
    if (existsSync(candidate) && candidate.endsWith(".ts")) return candidate;
  return null;
}

function packageName(specifier: string): string {
  return specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!;
}

/** Every bare package the modules reachable from `entry` import at run time, with who imports it. */
function runtimePackages(entry: string): { packages: Map<string, string>; files: string[] } {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(IMPORT)) {
      if (match[1]) continue; // `import type`: erased, never loaded
      const specifier = (match[2] ?? match[3])!;
      if (specifier.startsWith(".")) {
        const target = sourceOf(specifier, file);
        if (!target) throw new Error(`${file}: cannot resolve ${specifier}`);
        queue.push(target);
      } else if (!specifier.startsWith("node:") && !builtinModules.includes(packageName(specifier))) {
        packages.set(packageName(specifier), file.slice(ROOT.length + 1));
      }
    }
  }
  return { packages, files: [...seen] };
}

describe("the program loads from dependencies alone (npm ci --omit=dev)", () => {
  for (const entry of ["infra/index.ts", "policy/index.ts"]) {
    it(`${entry}: every package it reaches at run time is a dependency`, () => {
      const { packages, files } = runtimePackages(join(ROOT, entry));
      expect(files.length).toBeGreaterThan(1);
      expect(packages.size).toBeGreaterThan(0);
      const misplaced = [...packages].filter(([name]) => !(name in pkg.dependencies)).map(([name, by]) => `${name} (imported by ${by})`);
      expect(misplaced).toEqual([]);
    });
  }

  it("the loader Pulumi.yaml starts node with is a dependency, and package.json has no misleading main", () => {
    const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { main: string; runtime: { options: { nodeargs: string } } };
    const loaders = [...project.runtime.options.nodeargs.matchAll(/--(?:import|loader|require)[= ](\S+)/g)].map((m) => packageName(m[1]!));
    expect(loaders).toEqual(["tsx"]);
    for (const loader of loaders) expect(pkg.dependencies).toHaveProperty(loader);
    expect(existsSync(join(ROOT, project.main, "index.ts"))).toBe(true);
    expect(pkg.main).toBeUndefined();
  });

  it("the walker sees through the files it reads (a devDependency import would be caught)", () => {
    const { packages } = runtimePackages(join(ROOT, "test/component/infraHarness.ts"));
    expect(packages.get("vitest")).toBe("test/component/infraHarness.ts");
    expect(pkg.devDependencies).toHaveProperty("vitest");
  });
});
