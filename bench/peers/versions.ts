/** Versions of what a run measured, for the report: workerd (the npm package Miniflare runs), node, and the peers. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../infra/local/edge.ts";

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function runtimeVersions(): string {
  return `node ${process.version}, workerd ${packageVersion("workerd")} (miniflare ${packageVersion("miniflare")})`;
}
