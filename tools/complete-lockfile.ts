/**
 * `npm run lock:complete`: adds lock entries for workerd's platform packages that the
 * registry this project is developed against does not serve (darwin, windows).
 *
 * Why: `npm install` here records only the platform packages it could resolve, and
 * `npm ci` then refuses the lock as out of sync with workerd's optionalDependencies. The
 * added entries carry os/cpu, so on linux `npm ci` skips them without fetching; on a
 * machine that can reach them, npm resolves them as usual. Run it after `npm install`
 * changes the lock.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

interface LockPackage {
  version?: string;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

const lockPath = join(resolve(import.meta.dirname, ".."), "package-lock.json");
const lock = JSON.parse(readFileSync(lockPath, "utf8")) as { packages: Record<string, LockPackage> };
const packages = lock.packages;
const added: string[] = [];

for (const [path, meta] of Object.entries(packages)) {
  if (!path.endsWith("node_modules/workerd")) continue;
  const dir = path.slice(0, -"workerd".length);
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    // Put the entry where npm put this workerd's linux package: beside it, or hoisted.
    const beside = `${dir}${dep}`;
    const target = packages[`${dir}@cloudflare/workerd-linux-64`] !== undefined ? beside : `node_modules/${dep}`;
    if (packages[target] !== undefined) continue;
    packages[target] = {
      version,
      cpu: [dep.includes("arm64") ? "arm64" : "x64"],
      dev: true,
      license: "Apache-2.0",
      optional: true,
      os: [dep.includes("darwin") ? "darwin" : dep.includes("windows") ? "win32" : "linux"],
      engines: { node: ">=16" },
    };
    added.push(`${target}@${version}`);
  }
}

writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(added.length === 0 ? "lock already complete\n" : `added:\n  ${added.join("\n  ")}\n`);
