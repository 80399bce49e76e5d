import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** A file the status page loads besides itself, from an installed package. */
export interface StaticAsset {
  /** URL path. */
  path: string;
  /** The package file, as `require.resolve` takes it. */
  file: string;
  /** Media type. */
  type: string;
}

/** uPlot, served by the master itself (no CDN). */
export const CHART_ASSETS: readonly StaticAsset[] = [
  { path: "/assets/uplot.js", file: "uplot/dist/uPlot.iife.min.js", type: "text/javascript" },
  { path: "/assets/uplot.css", file: "uplot/dist/uPlot.min.css", type: "text/css" },
];

const require = createRequire(import.meta.url);
const bodies = new Map<string, string>();

/** The asset's text, read from node_modules on its first request. */
export function assetBody(asset: StaticAsset): string {
  let body = bodies.get(asset.path);
  if (body === undefined) {
    body = readFileSync(require.resolve(asset.file), "utf8");
    bodies.set(asset.path, body);
  }
  return body;
}
