// Bundling a Lambda handler of ours at program run time (preview and up alike, so there is no
// separate build step and no stale dist/ to forget): esbuild (a dependency) turns the handler's
// TypeScript into one CommonJS index.js with the AWS SDK clients it uses inside it (the Lambda
// runtime's own SDK version is not ours).
//
// The scripts load the SDK through one module, scripts/aws/sdk.ts, with require() at run time
// (fast CLI start-up); a bundler cannot follow that, so the bundle gets that module rewritten as
// static imports of exactly the clients the function uses, and a loader that throws for the
// others. Modules the function must never load (the migrator and node-postgres where the
// function has no database work) are replaced by a module that throws when it is loaded: they
// are reached only through dynamic imports on paths the function does not take, so the throw
// names the mistake if one ever is.
//
// The syntax target stays node20: the lowest Node the project runs on, so the same bundle also
// runs in the tests here; the functions' nodejs24.x runtime runs it unchanged.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The loaders of scripts/aws/sdk.ts and the package each one loads. */
export const SDK_PACKAGES = {
  elbSdk: "@aws-sdk/client-elastic-load-balancing-v2",
  ssmSdk: "@aws-sdk/client-ssm",
  cloudWatchSdk: "@aws-sdk/client-cloudwatch",
  rdsSdk: "@aws-sdk/client-rds",
  autoScalingSdk: "@aws-sdk/client-auto-scaling",
} as const;
export type SdkLoader = keyof typeof SDK_PACKAGES;

export interface LambdaBundleOptions {
  /** "the guard": named in the errors and the stubs' messages. */
  what: string;
  /** The SDK loaders the function calls; every other loader throws. */
  sdk: readonly SdkLoader[];
  /** Modules left out (matched on their resolved path): loading one throws. */
  leaveOut?: readonly { pattern: RegExp; reason: string }[];
}

/** A handler's source beside infra/ (infra/ runs from source with tsx, so the .ts file is there). */
export function handlerPath(relative: string, what: string): string {
  const base = relative.replace(/\.ts$/, "");
  const candidates = [`${base}.ts`, `${base}.js`].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`${what}'s handler is missing (looked for ${candidates.join(", ")})`);
  return found;
}

/** Bundle `entry` into one CommonJS file for the Lambda runtime. */
export async function bundleLambdaHandler(entry: string, options: LambdaBundleOptions): Promise<string> {
  const esbuild = await import("esbuild");
  const leaveOut = options.leaveOut ?? [];
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    write: false,
    minify: false,
    sourcemap: false,
    legalComments: "none",
    logLevel: "silent",
    // pg's optional native binding (libpq): never installed, never loaded (pg requires it only when pg.native is read).
    external: ["pg-native"],
    plugins: [
      {
        name: "static-aws-sdk",
        setup(build) {
          build.onLoad({ filter: /[\\/]scripts[\\/]aws[\\/]sdk\.ts$/ }, async (args) => {
            const original = await readFile(args.path, "utf8");
            const names = [...original.matchAll(/^export const (\w+)\s*=/gm)].map((match) => match[1]!);
            const lines = names.map((name) => {
              const wanted = (options.sdk as readonly string[]).includes(name) ? SDK_PACKAGES[name as SdkLoader] : undefined;
              return wanted
                ? `import * as ${name}Module from "${wanted}";\nexport const ${name} = () => ${name}Module;`
                : `export const ${name} = () => { throw new Error("${name} is not bundled into ${options.what}"); };`;
            });
            return { contents: lines.join("\n"), loader: "ts" };
          });
        },
      },
      {
        name: "leave-out",
        setup(build) {
          if (leaveOut.length === 0) return;
          build.onLoad({ filter: /.*/ }, (args) => {
            const left = leaveOut.find((rule) => rule.pattern.test(args.path));
            if (!left) return undefined;
            const message = `${args.path.split(/[\\/]node_modules[\\/]/).pop()} is not bundled into ${options.what}: ${left.reason}`;
            return { contents: `throw new Error(${JSON.stringify(message)});`, loader: "js" };
          });
        },
      },
    ],
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${options.what}`);
  return file.text;
}
