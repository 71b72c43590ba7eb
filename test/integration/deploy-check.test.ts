/**
 * `npm run deploy:check` as an operator runs it: offline, a good environment passes
 * (configuration + `wrangler deploy --dry-run --env`), and each kind of bad configuration
 * fails with exit 1 naming the field to fix.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_AFFINITY_KEYS, DEV_SIGNING_KID } from "../../infra/local/dev-secrets.ts";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { withTimeout } from "./support/wait.ts";

const CHECK = join(REPO_ROOT, "infra", "deploy", "check.ts");
let dir: string;
let goodVars: string;
let toml: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "push-edge-deploy-check-"));
  // Secrets as an operator would generate them (infra/deploy/secrets.md).
  goodVars = join(dir, "production.vars");
  await writeFile(
    goodVars,
    `AFFINITY_KEYS='${JSON.stringify({ "prod-2026-11": randomBytes(32).toString("base64url") })}'\nADMIN_TOKEN=${randomBytes(32).toString("base64")}\n`,
  );
  toml = await readFile(join(REPO_ROOT, "wrangler.toml"), "utf8");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function check(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CHECK, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await withTimeout(new Promise<number | null>((resolve) => child.once("close", resolve)), 120_000, `deploy:check ${args.join(" ")}`);
  return { code, stdout, stderr };
}

/** wrangler.toml with one change, in a temporary file (its `main` made absolute so it still resolves). */
async function variant(name: string, change: (text: string) => string): Promise<string> {
  const changed = change(toml.replace('main = "workers/edge/index.ts"', `main = "${join(REPO_ROOT, "workers", "edge", "index.ts")}"`));
  expect(changed).not.toBe(toml);
  const path = join(dir, `${name}.toml`);
  await writeFile(path, changed);
  return path;
}

/** The production section of wrangler.toml (everything after its header). */
function inProduction(text: string, from: string, to: string): string {
  const at = text.indexOf("[env.production]");
  const head = text.slice(0, at);
  const tail = text.slice(at);
  expect(tail).toContain(from);
  return head + tail.replace(from, to);
}

describe("npm run deploy:check", () => {
  it("passes for production with its secrets, and builds the bundle with wrangler deploy --dry-run --env production", async () => {
    const res = await check(["--env", "production", "--vars-file", goodVars]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("deploy check: production, Worker push-edge-production");
    expect(res.stdout).toMatch(/ok\s+durable_objects\.bindings: SESSIONS \(SessionObject\), POOL_COORDINATOR \(PoolCoordinator\), ORIGIN_SESSIONS \(OriginSessions\)/);
    expect(res.stdout).toMatch(/ok\s+routes: push\.example\.com\/\*, push\.example\.org\/\*/);
    expect(res.stdout).toMatch(/ok\s+AFFINITY_KEYS: 1 key \(prod-2026-11\), signing kid prod-2026-11/);
    // The admin API answers on the admin host only, never on a pool's public host.
    expect(res.stdout).toMatch(/ok\s+ADMIN_HOSTS: admin API on push-admin\.example\.com\n/);
    expect(res.stdout).toMatch(/ok\s+build: wrangler deploy --dry-run --env production: bundle /);
    expect(res.stdout).toContain("deploy check passed for production");
    const bundle = await readFile(join(REPO_ROOT, ".build", "deploy", "production", "index.js"), "utf8");
    expect(bundle).toMatch(/export\s*\{[^}]*\bSessionObject\b/);
    expect((await stat(join(REPO_ROOT, ".build", "deploy", "production", "index.js"))).size).toBeGreaterThan(10_000);
  });

  it("fails naming the field when POOLS is bad", async () => {
    const config = await variant("bad-pools", (t) => inProduction(t, '"url":"https://ls2.origin.example.com"', '"url":"ls2 without a scheme"'));
    const res = await check(["--config", config, "--env", "production", "--vars-file", goodVars]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`error  POOLS.pools[0].origins[1].url: is not a URL: "ls2 without a scheme" (in env.production.vars)`);
    expect(res.stderr).toBe("deploy check FAILED for production: POOLS.pools[0].origins[1].url\n");
    expect(res.stdout).not.toContain("build:"); // nothing is built from a bad configuration
  });

  it("fails when an environment forgets a Durable Object binding (bindings are not inherited)", async () => {
    const config = await variant("no-binding", (t) =>
      inProduction(t, '[[env.production.durable_objects.bindings]]\nname = "ORIGIN_SESSIONS"\nclass_name = "OriginSessions"\n', ""),
    );
    const res = await check(["--config", config, "--env", "production", "--vars-file", goodVars]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/error\s+env\.production\.durable_objects\.bindings: missing ORIGIN_SESSIONS \(OriginSessions\)/);
  });

  it("warns when the top level binds Analytics Engine and the environment does not", async () => {
    const config = await variant("analytics", (t) =>
      t.replace('# [[analytics_engine_datasets]]\n# binding = "METRICS"\n# dataset = "push_edge_requests"', '[[analytics_engine_datasets]]\nbinding = "METRICS"\ndataset = "push_edge_requests"'),
    );
    const res = await check(["--config", config, "--env", "production", "--vars-file", goodVars, "--skip-build"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/warn\s+env\.production\.analytics_engine_datasets: no METRICS binding/);
    expect(res.stdout).toContain("deploy check passed for production (1 warning)");
  });

  it("fails on a secret kept in [vars], a signing kid missing from the key ring, and a bare-IP origin", async () => {
    const secretInVars = await variant("secret-in-vars", (t) => inProduction(t, 'TOKEN_TTL_SECONDS = "86400"', 'TOKEN_TTL_SECONDS = "86400"\nADMIN_TOKEN = "in-plain-text"'));
    const a = await check(["--config", secretInVars, "--env", "production", "--vars-file", goodVars, "--skip-build"]);
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/error\s+env\.production\.vars\.ADMIN_TOKEN: is a secret/);

    const noSecrets = await check(["--env", "production", "--skip-build"]);
    expect(noSecrets.code).toBe(1);
    expect(noSecrets.stdout).toMatch(/error\s+AFFINITY_KEYS: is not set .*give it in --vars-file/);

    const otherKid = join(dir, "other-kid.vars");
    await writeFile(otherKid, `AFFINITY_KEYS='${JSON.stringify({ "some-other": randomBytes(32).toString("base64url") })}'\n`);
    const b = await check(["--env", "production", "--vars-file", otherKid, "--skip-build"]);
    expect(b.code).toBe(1);
    expect(b.stdout).toMatch(/error\s+AFFINITY_SIGNING_KID: must name a key of AFFINITY_KEYS/);

    const bareIp = await variant("bare-ip", (t) => inProduction(t, "https://ls3.origin.example.com", "http://203.0.113.7:8080"));
    const c = await check(["--config", bareIp, "--env", "production", "--vars-file", goodVars, "--skip-build"]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/error\s+POOLS\.pools\[0\]\.origins\[2\]\.url: http:\/\/203\.0\.113\.7:8080: Workers cannot fetch\(\) a bare IP address/);
  });

  it("F7 (issue 16): fails a production config with the repository's dev HS256 key, naming the key", async () => {
    const devSecret = (JSON.parse(DEV_AFFINITY_KEYS) as Record<string, string>)[DEV_SIGNING_KID] ?? "";
    const devKey = join(dir, "dev-key.vars");
    // Under the production kid, and padded base64: the same secret bytes all the same.
    await writeFile(devKey, `AFFINITY_KEYS='${JSON.stringify({ "prod-2026-11": Buffer.from(devSecret, "base64url").toString("base64") })}'\nADMIN_TOKEN=${randomBytes(32).toString("base64")}\n`);
    const res = await check(["--env", "production", "--vars-file", devKey, "--skip-build"]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/error\s+AFFINITY_KEYS\.prod-2026-11: is the repository's development HS256 key/);
    expect(res.stderr).toBe("deploy check FAILED for production: AFFINITY_KEYS.prod-2026-11\n");
  });

  it("F7 (issue 16): fails a production config with a \"*\" pool and ADMIN_HOSTS empty, naming ADMIN_HOSTS", async () => {
    const catchAll = await variant("catch-all", (t) =>
      inProduction(inProduction(t, 'ADMIN_HOSTS = "push-admin.example.com"', 'ADMIN_HOSTS = ""'), '"hosts":["push.example.org"]', '"hosts":["*"]'),
    );
    const res = await check(["--config", catchAll, "--env", "production", "--vars-file", goodVars, "--skip-build"]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/error\s+ADMIN_HOSTS: is empty while POOLS\.pools\[1\] serves every host \("\*"\)/);
    expect(res.stderr).toBe("deploy check FAILED for production: ADMIN_HOSTS\n");
    // With the admin host set aside, the same pools pass.
    const fixed = await variant("catch-all-admin-host", (t) => inProduction(t, '"hosts":["push.example.org"]', '"hosts":["*"]'));
    const ok = await check(["--config", fixed, "--env", "production", "--vars-file", goodVars, "--skip-build"]);
    expect(ok.stdout).not.toMatch(/error/);
    expect(ok.code).toBe(0);
  });

  it("exits 2 for an environment wrangler.toml does not have", async () => {
    const res = await check(["--env", "prod"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("has no [env.prod] (it has: staging, production)");
  });
});
