// A Vega-Lite spec → an SVG string, in Node: compiled by vega-lite, run by vega's headless view
// (renderer "none", no canvas, no DOM). The loader refuses every load, so a spec that named a URL
// fails here instead of reaching for the network or the disk. Warnings of either library are
// collected for the caller (the tests require none) instead of being printed on the operator's stderr.

import { loader as vegaLoader, logger, parse, View, Warn } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

function offlineLoader() {
  const base = vegaLoader();
  const refuse = async (uri: string): Promise<never> => {
    throw new Error(`report charts are self-contained: refusing to load ${uri}`);
  };
  return Object.assign(base, { load: refuse, sanitize: refuse, http: refuse, file: refuse });
}

function collectingLogger(warnings: string[]) {
  return logger(Warn, undefined, (_method, _level, input) => {
    warnings.push(input.map((part) => (typeof part === "string" ? part : part instanceof Error ? part.message : JSON.stringify(part))).join(" "));
  });
}

export async function renderSvg(spec: TopLevelSpec, warnings: string[] = []): Promise<string> {
  const log = collectingLogger(warnings);
  const compiled = compile(spec, { logger: log }).spec;
  const view = new View(parse(compiled), { renderer: "none", loader: offlineLoader(), logger: log });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
