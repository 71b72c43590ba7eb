/**
 * `npm run setup` (and npm's `pretest`, so `npm test` runs it first): installs the Debian
 * packages the tests need (requirements.ts) when they are missing — the only place that
 * installs anything for the tests. Says what it installs; when it cannot (not root, no
 * apt-get) it fails at once with one line naming the command to run.
 *
 *   node tools/setup/main.ts [--dry-run]    --dry-run: print the commands, run nothing
 *
 * Exit 0 ready (or installed), 1 cannot / install failed, 2 bad flag.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { planSetup } from "./plan.ts";
import { isInstalled, TEST_REQUIREMENTS } from "./requirements.ts";

const args = process.argv.slice(2);
const dryRun = args.includes("--dry-run");
if (args.some((a) => a !== "--dry-run")) {
  process.stderr.write(`push-edge setup: unknown argument ${JSON.stringify(args.find((a) => a !== "--dry-run"))}; usage: node tools/setup/main.ts [--dry-run]\n`);
  process.exit(2);
}

function hasAptGet(): boolean {
  // A non-root PATH may lack /usr/bin's neighbours; apt-get lives in /usr/bin on Debian.
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/bin", "/bin"];
  return dirs.some((d) => d !== "" && existsSync(`${d}/apt-get`));
}

const missing = TEST_REQUIREMENTS.filter((r) => !isInstalled(r));
const plan = planSetup({ missing, root: process.getuid?.() === 0, aptGet: hasAptGet() });

switch (plan.kind) {
  case "ready":
    process.stdout.write(`push-edge setup: ${TEST_REQUIREMENTS.map((r) => r.package).join(", ")} present; nothing to install\n`);
    break;
  case "cannot":
    process.stderr.write(`${plan.line}\n`);
    process.exit(1);
    break;
  case "install": {
    process.stdout.write(`${plan.announce}\n`);
    for (const command of plan.commands) {
      process.stdout.write(`${dryRun ? "would run" : "running"}: ${command.join(" ")}\n`);
      if (dryRun) continue;
      const [file = "apt-get", ...rest] = command;
      const run = spawnSync(file, rest, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
      if (run.status !== 0) {
        process.stderr.write(`push-edge setup: ${command.join(" ")} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`}); fix that, then run npm test again\n`);
        process.exit(1);
      }
    }
    if (dryRun) break;
    const still = TEST_REQUIREMENTS.filter((r) => !isInstalled(r));
    if (still.length > 0) {
      process.stderr.write(`push-edge setup: installed, but still missing ${still.map((r) => r.binary).join(", ")}\n`);
      process.exit(1);
    }
    process.stdout.write(`push-edge setup: installed ${missing.map((r) => r.package).join(", ")}\n`);
    break;
  }
}
