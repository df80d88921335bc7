// The AWS SDK clients, loaded with require() on first use.
//
// Why not `import`: the SDK ships CommonJS. When an ES module imports a CommonJS file, Node's
// ESM loader scans it (and every file it re-exports) with cjs-module-lexer to find its named
// exports and resolves its format: measured at ~60–70 ms of `npm run rollback`'s start-up for
// the SSM client alone, a quarter of its 250 ms budget. require() loads the same files, in the
// same module cache (aws-sdk-client-mock in the tests sees the same classes), without that scan.
// Types still come from the packages (`typeof import(...)` is erased at compile time).

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export type ElbSdk = typeof import("@aws-sdk/client-elastic-load-balancing-v2");
export type SsmSdk = typeof import("@aws-sdk/client-ssm");
export type CloudWatchSdk = typeof import("@aws-sdk/client-cloudwatch");
export type RdsSdk = typeof import("@aws-sdk/client-rds");
export type AutoScalingSdk = typeof import("@aws-sdk/client-auto-scaling");

export const elbSdk = (): ElbSdk => require("@aws-sdk/client-elastic-load-balancing-v2") as ElbSdk;
export const ssmSdk = (): SsmSdk => require("@aws-sdk/client-ssm") as SsmSdk;
export const cloudWatchSdk = (): CloudWatchSdk => require("@aws-sdk/client-cloudwatch") as CloudWatchSdk;
export const rdsSdk = (): RdsSdk => require("@aws-sdk/client-rds") as RdsSdk;
export const autoScalingSdk = (): AutoScalingSdk => require("@aws-sdk/client-auto-scaling") as AutoScalingSdk;
