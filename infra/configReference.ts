// Generates the stack config reference (docs/config-reference.md) from the zod schema in
// config.ts: every key with its type, default, rules (the same messages validation prints) and
// description. test/unit/configReference.test.ts asserts the committed file equals this output,
// so the reference cannot drift from the schema.
//
//   npx tsx infra/configReference.ts --write    regenerate docs/config-reference.md
//   npx tsx infra/configReference.ts --check    exit 1 when the committed file is stale
//   npx tsx infra/configReference.ts            print to stdout
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { CONFIG_KEYS, CROSS_FIELD_RULES, PROJECT, stackConfigSchema } from "./config.js";

export const REFERENCE_PATH = fileURLToPath(new URL("../docs/config-reference.md", import.meta.url));

export interface ReferenceRow {
  /** Dotted path as validation errors print it; `[]` marks array elements. */
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  rules: string[];
  description: string;
  /** For keys that exist only in one branch of a discriminated union, e.g. "mode: create". */
  when?: string;
}

// The zod v4 internals this walker reads (`schema._zod.def`) are typed loosely on purpose: it only
// inspects, never parses.
type AnySchema = z.ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  defaultValue?: unknown;
  shape?: Record<string, AnySchema>;
  options?: AnySchema[];
  discriminator?: string;
  element?: AnySchema;
  keyType?: AnySchema;
  valueType?: AnySchema;
  entries?: Record<string, string | number>;
  values?: unknown[];
  checks?: { _zod: { def: CheckDef } }[];
  format?: string;
  error?: (issue?: unknown) => unknown;
  protocol?: RegExp;
}
interface CheckDef {
  check: string;
  format?: string;
  value?: number | bigint;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  error?: (issue?: unknown) => unknown;
}

const defOf = (schema: AnySchema): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const descriptionOf = (schema: AnySchema): string | undefined => z.globalRegistry.get(schema)?.description;

function message(error: ((issue?: unknown) => unknown) | undefined): string | undefined {
  if (!error) return undefined;
  try {
    const value = error({});
    if (typeof value === "string") return value;
    if (value && typeof value === "object" && "message" in value && typeof value.message === "string") return value.message;
  } catch {
    // an error map that needs a real issue: nothing to document
  }
  return undefined;
}

/** Peels optional/default wrappers, collecting descriptions on the way. */
function unwrap(schema: AnySchema): { inner: AnySchema; optional: boolean; hasDefault: boolean; defaultValue?: unknown; description?: string } {
  let inner = schema;
  let optional = false;
  let hasDefault = false;
  let defaultValue: unknown;
  let description = descriptionOf(schema);
  for (;;) {
    const def = defOf(inner);
    if (def.type === "optional") optional = true;
    else if (def.type === "default") {
      hasDefault = true;
      defaultValue = def.defaultValue;
    } else break;
    inner = def.innerType!;
    description ??= descriptionOf(inner);
  }
  return { inner, optional, hasDefault, defaultValue, description };
}

function checksOf(def: Def): { type: string; rules: string[] } {
  const rules: string[] = [];
  let integer = false;
  let min: { value: string; inclusive: boolean } | undefined;
  let max: { value: string; inclusive: boolean } | undefined;
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    const text = message(c.error);
    switch (c.check) {
      case "number_format":
        integer = c.format === "safeint" || c.format === "int32";
        break;
      case "greater_than":
        min = { value: String(c.value), inclusive: c.inclusive ?? false };
        break;
      case "less_than":
        max = { value: String(c.value), inclusive: c.inclusive ?? false };
        break;
      case "min_length":
        rules.push(text ?? `at least ${c.minimum}`);
        break;
      case "max_length":
        rules.push(text ?? `at most ${c.maximum}`);
        break;
      case "string_format":
      case "custom":
        if (text) rules.push(text);
        break;
    }
  }
  const bound = (b: { value: string; inclusive: boolean }, low: boolean) => `${low ? (b.inclusive ? "≥" : ">") : b.inclusive ? "≤" : "<"} ${b.value}`;
  if (min && max && min.inclusive && max.inclusive) rules.unshift(`${min.value}–${max.value}`);
  else if (min || max) rules.unshift([min && bound(min, true), max && bound(max, false)].filter(Boolean).join(", "));
  const type = def.type === "number" ? (integer ? "integer" : "number") : def.type;
  return { type, rules };
}

/** A short type name for a schema, e.g. `integer`, `"single" \| "per-az"`, `array of string`. */
function typeName(schema: AnySchema): string {
  const { inner } = unwrap(schema);
  const def = defOf(inner);
  switch (def.type) {
    case "number":
      return checksOf(def).type;
    case "enum":
      return Object.values(def.entries!)
        .map((value) => JSON.stringify(value))
        .join(" | ");
    case "literal":
      return def.values!.map((value) => JSON.stringify(value)).join(" | ");
    case "array":
      return `array of ${typeName(def.element!)}`;
    case "record":
      return `map of ${typeName(def.keyType!)} → ${typeName(def.valueType!)}`;
    case "union": {
      if (def.discriminator) {
        const tags = def.options!.map((option) => defOf(unwrap(defOf(unwrap(option).inner).shape![def.discriminator!]!).inner).values?.[0]);
        return `object by ${def.discriminator}: ${tags.map((tag) => JSON.stringify(tag)).join(" | ")}`;
      }
      return def.options!.map(typeName).join(" | ");
    }
    case "object":
      return "object";
    case "string":
      return def.format === "url" || (def.checks ?? []).some((check) => check._zod.def.format === "url") ? "URL" : "string";
    default:
      return def.type;
  }
}

function walk(schema: AnySchema, path: string, rows: ReferenceRow[], when?: string, parentOptional = false): void {
  const { inner, optional, hasDefault, defaultValue, description } = unwrap(schema);
  const def = defOf(inner);
  const row: ReferenceRow = {
    path,
    type: typeName(inner),
    required: !optional && !hasDefault && !parentOptional,
    rules: [],
    description: description ?? "",
    ...(when === undefined ? {} : { when }),
  };
  // Object defaults are documented key by key; only leaf defaults are shown.
  if (hasDefault && def.type !== "object") row.default = typeof defaultValue === "function" ? (defaultValue as () => unknown)() : defaultValue;
  const nested = (child: AnySchema, childPath: string, childWhen = when) => walk(child, childPath, rows, childWhen, false);

  switch (def.type) {
    case "object": {
      // Object-level refinements involve several keys: they are listed under "Rules across keys".
      row.rules.push("unknown keys are refused");
      rows.push(row);
      for (const [key, child] of Object.entries(def.shape!)) nested(child, `${path}.${key}`);
      return;
    }
    case "union": {
      row.rules.push(...checksOf(def).rules);
      const error = message(def.error);
      if (error) row.rules.push(error);
      rows.push(row);
      for (const option of def.options!) {
        const optionDef = defOf(unwrap(option).inner);
        if (optionDef.type !== "object") continue;
        const discriminator = def.discriminator;
        const tag = discriminator ? defOf(unwrap(optionDef.shape![discriminator]!).inner).values?.[0] : undefined;
        const branch = discriminator ? `${discriminator}: ${String(tag)}` : when;
        for (const [key, child] of Object.entries(optionDef.shape!)) {
          if (key === discriminator) continue;
          nested(child, `${path}.${key}`, branch);
        }
      }
      return;
    }
    case "array": {
      row.rules.push(...checksOf(def).rules);
      const element = unwrap(def.element!).inner;
      const elementDef = defOf(element);
      if (elementDef.type === "object") {
        rows.push(row);
        for (const [key, child] of Object.entries(elementDef.shape!)) nested(child, `${path}[].${key}`);
        return;
      }
      if (elementDef.type === "union") {
        rows.push(row);
        for (const option of elementDef.options!) {
          const optionDef = defOf(unwrap(option).inner);
          if (optionDef.type === "object") for (const [key, child] of Object.entries(optionDef.shape!)) nested(child, `${path}[].${key}`);
        }
        return;
      }
      row.rules.push(...checksOf(elementDef).rules.map((rule) => `each: ${rule}`));
      rows.push(row);
      return;
    }
    case "record": {
      row.rules.push(...checksOf(defOf(unwrap(def.keyType!).inner)).rules.map((rule) => `names: ${rule}`), ...checksOf(def).rules);
      rows.push(row);
      return;
    }
    case "enum":
    case "literal": {
      const error = message(def.error);
      row.rules.push(...checksOf(def).rules, ...(error ? [error] : []));
      rows.push(row);
      return;
    }
    default: {
      row.rules.push(...checksOf(def).rules);
      const formatError = def.format ? message(def.error) : undefined;
      if (formatError) row.rules.push(formatError);
      rows.push(row);
    }
  }
}

/** Every documented key, in schema order. */
export function referenceRows(): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const shape = defOf(stackConfigSchema).shape!;
  for (const [key, schema] of Object.entries(shape)) walk(schema, key, rows);
  return rows;
}

const cell = (text: string) => text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

function formatDefault(row: ReferenceRow): string {
  if (row.default === undefined) return row.required ? "**required**" : "—";
  return code(JSON.stringify(row.default));
}

/** The whole Markdown document. Deterministic: same schema, same bytes. */
export function renderReference(): string {
  const rows = referenceRows();
  const out: string[] = [
    "# Stack config reference",
    "",
    "<!-- Generated from infra/config.ts by `npx tsx infra/configReference.ts --write`. Do not edit by hand: test/unit/configReference.test.ts fails when this file and the schema disagree. -->",
    "",
    "One file, `Pulumi.<stack>.yaml`, configures the infrastructure and the rollout policy. The Pulumi program and the",
    "operator scripts parse it with the same schema (`infra/config.ts`); an error names the path and the rule, for example",
    "`traffic.weights: blue + green must be 100 (got 90)`. `Pulumi.prod.yaml` is a complete, commented example; its values",
    "written `REPLACE-ME-<what>` must be replaced with the stack's own: any value still holding one (in any letter case) is",
    "refused, every such key named, before any other rule is checked.",
    "",
    "| Pulumi config key | Section |",
    "| --- | --- |",
    "| `aws:region` | [region](#region) |",
    ...CONFIG_KEYS.map((key) => `| \`${PROJECT}:${key}\` | [${key}](#${key.toLowerCase()}) |`),
    "",
    "Unknown keys are refused everywhere (a typo must not fall back to a default silently), including unknown `bluegreen:` keys.",
    "",
  ];
  const sections = ["region", ...CONFIG_KEYS] as const;
  for (const section of sections) {
    out.push(`## ${section}`, "");
    out.push(section === "region" ? "Pulumi key `aws:region`." : `Pulumi key \`${PROJECT}:${section}\`.`, "");
    out.push("| Key | Type | Default | Rules | Description |", "| --- | --- | --- | --- | --- |");
    for (const row of rows.filter((r) => r.path === section || r.path.startsWith(`${section}.`))) {
      const description = [row.when ? `*(${row.when})*` : "", row.description].filter(Boolean).join(" ");
      out.push(`| ${code(row.path)} | ${cell(row.type)} | ${formatDefault(row)} | ${cell(row.rules.join("; "))} | ${cell(description)} |`);
    }
    out.push("");
  }
  out.push("## Rules across keys", "", "| Key | Rule |", "| --- | --- |");
  for (const { path, rule } of CROSS_FIELD_RULES) out.push(`| ${code(path)} | ${cell(rule)} |`);
  out.push("");
  return out.join("\n");
}

function main(argv: string[]): number {
  const text = renderReference();
  if (argv.includes("--write")) {
    writeFileSync(REFERENCE_PATH, text);
    console.log(`wrote ${REFERENCE_PATH}`);
    return 0;
  }
  if (argv.includes("--check")) {
    let committed = "";
    try {
      committed = readFileSync(REFERENCE_PATH, "utf8");
    } catch {
      // missing counts as stale
    }
    if (committed === text) return 0;
    console.error(`${REFERENCE_PATH} is stale: run npx tsx infra/configReference.ts --write`);
    return 1;
  }
  process.stdout.write(text);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
