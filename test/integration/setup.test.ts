/**
 * npm test's setup step (tools/setup/): what it decides for each kind of machine — the
 * apt-get commands as root, one line naming the command to run when it cannot — and the
 * real script on this machine (dry run: it runs nothing). The tests install nothing: no
 * test file uses the bench's installer.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { DPKG_LOCK_TIMEOUT_S, planSetup } from "../../tools/setup/plan.ts";
import { CHROMIUM, HAPROXY, isInstalled, NGINX, TEST_REQUIREMENTS } from "../../tools/setup/requirements.ts";
import { withTimeout } from "./support/wait.ts";

const MAIN = join(REPO_ROOT, "tools", "setup", "main.ts");

function runSetup(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return withTimeout(new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr }))), 30_000, "the setup script");
}

describe("setup plan", () => {
  it("has nothing to do when every package is there", () => {
    expect(planSetup({ missing: [], root: false, aptGet: false })).toEqual({ kind: "ready" });
  });

  it("as root with apt-get: updates, then installs exactly the missing packages, waiting for a busy dpkg", () => {
    const plan = planSetup({ missing: [CHROMIUM, NGINX], root: true, aptGet: true });
    if (plan.kind !== "install") throw new Error(`expected an install plan, got ${JSON.stringify(plan)}`);
    const lock = ["-o", `DPkg::Lock::Timeout=${DPKG_LOCK_TIMEOUT_S}`];
    expect(plan.commands).toEqual([
      ["apt-get", ...lock, "update", "-qq"],
      ["apt-get", ...lock, "install", "-y", "-qq", "chromium", "nginx"],
    ]);
    expect(plan.announce).toBe("push-edge setup: installing Debian packages for the tests: chromium (the browser tests), nginx (the bench-peers test)");
  });

  it("not root: one line naming the command to run", () => {
    const plan = planSetup({ missing: TEST_REQUIREMENTS, root: false, aptGet: true });
    if (plan.kind !== "cannot") throw new Error(`expected cannot, got ${JSON.stringify(plan)}`);
    expect(plan.line).not.toContain("\n");
    expect(plan.line).toContain("sudo apt-get install -y chromium haproxy nginx");
  });

  it("no apt-get: one line naming the paths the tests need", () => {
    const plan = planSetup({ missing: [HAPROXY], root: true, aptGet: false });
    if (plan.kind !== "cannot") throw new Error(`expected cannot, got ${JSON.stringify(plan)}`);
    expect(plan.line).not.toContain("\n");
    expect(plan.line).toContain("no apt-get");
    expect(plan.line).toContain("/usr/sbin/haproxy");
  });
});

describe("setup script", () => {
  it("runs before npm test (npm's pretest) and as npm run setup", () => {
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.pretest).toBe("node tools/setup/main.ts");
    expect(scripts.setup).toBe("node tools/setup/main.ts");
  });

  it("on this machine, --dry-run says what it would do and runs nothing", async () => {
    const missing = TEST_REQUIREMENTS.filter((r) => !isInstalled(r));
    const { code, stdout, stderr } = await runSetup(["--dry-run"]);
    if (missing.length === 0) {
      expect({ code, stdout }).toEqual({ code: 0, stdout: "push-edge setup: chromium, haproxy, nginx present; nothing to install\n" });
    } else if (process.getuid?.() === 0) {
      expect(code).toBe(0);
      expect(stdout).toContain(`would run: apt-get -o DPkg::Lock::Timeout=${DPKG_LOCK_TIMEOUT_S} install -y -qq ${missing.map((r) => r.package).join(" ")}`);
    } else {
      expect(code).toBe(1);
      expect(stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("refuses an unknown flag with exit 2", async () => {
    const { code, stderr } = await runSetup(["--yes"]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown argument "--yes"');
  });

  it("preinstall: a Node older than 18 running npm gets one line and a failed install; 18 and newer pass silently", async () => {
    const check = (agent: string) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, "tools", "setup", "check-node.js")], {
        env: { ...process.env, npm_config_user_agent: agent },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      return withTimeout(new Promise<{ code: number | null; out: string }>((resolve) => child.once("exit", (code) => resolve({ code, out }))), 30_000, "check-node.js");
    };
    const old = await check("npm/8.19.4 node/v16.20.2 linux x64 workspaces/false");
    expect(old.code).toBe(1);
    expect(old.out.trim().split("\n")).toEqual([expect.stringContaining("Node v16.20.2 here; installing this project needs Node >= 18")]);
    expect(await check("npm/10.8.2 node/v18.20.4 linux x64 workspaces/false")).toEqual({ code: 0, out: "" });
    expect(await check("npm/11.19.1 node/v20.20.2 linux x64 workspaces/false")).toEqual({ code: 0, out: "" });
    expect((JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.preinstall).toBe("node tools/setup/check-node.js");
  });

  it("no test installs anything: no test file uses the bench's installer", () => {
    const dir = join(REPO_ROOT, "test", "integration");
    const users = readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "setup.test.ts" && readFileSync(join(dir, f), "utf8").includes("ensurePeerBinaries"));
    expect(users).toEqual([]);
  });
});
