/**
 * `npm run deploy:check -- [--env staging|production] [--vars-file FILE] [--config FILE]`:
 * everything a deploy can be checked for offline, before `wrangler deploy --env ...`
 * uploads anything:
 *  1. wrangler.toml as wrangler reads it for that environment: Durable Object bindings
 *     repeated from the top level, migrations for every bound class, routes, no secret
 *     among the vars (infra/deploy/check-config.ts);
 *  2. POOLS, pool settings and the key ring through the Worker's own parsers, with the
 *     secrets from --vars-file (.dev.vars format: NAME=value lines), as the deployed
 *     Worker will see them; origins a Worker cannot reach (bare IPs) fail;
 *  3. `wrangler deploy --dry-run --env <env> --outdir .build/deploy/<env>`: the bundle
 *     builds as the real deploy will build it.
 * Exit 0 when nothing failed (warnings are printed), 1 naming each bad field, 2 usage.
 */
import { spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs, parseEnv } from "node:util";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import { DEV_ADMIN_TOKEN, DEV_AFFINITY_KEYS } from "../local/dev-secrets.ts";
import { REPO_ROOT } from "../local/edge.ts";
import { checkDeployConfig, type Finding, type WranglerEnvConfig } from "./check-config.ts";

const USAGE = `usage: npm run deploy:check -- [--env NAME] [--vars-file FILE] [--config FILE] [--skip-build]
  --env NAME        wrangler environment (staging, production); default: the top level (dev)
  --vars-file FILE  the secrets as NAME=value lines (.dev.vars format), e.g. AFFINITY_KEYS='{"k1":"..."}';
                    default for the top level: the local stack's dev secrets
  --config FILE     wrangler configuration (default wrangler.toml)
  --skip-build      only check the configuration, without wrangler deploy --dry-run`;

function usage(message: string): never {
  process.stderr.write(`deploy:check: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { env: { type: "string" }, "vars-file": { type: "string" }, config: { type: "string" }, "skip-build": { type: "boolean" }, help: { type: "boolean" } },
      strict: true,
    }));
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const configPath = resolve(values.config ?? join(REPO_ROOT, "wrangler.toml"));
  const env = values.env;
  const raw = await experimental_readRawConfig({ config: configPath });
  const envNames = Object.keys((raw.rawConfig as { env?: Record<string, unknown> }).env ?? {});
  if (env !== undefined && !envNames.includes(env)) usage(`--env: ${configPath} has no [env.${env}] (it has: ${envNames.join(", ") || "none"})`);

  let secrets: Record<string, string>;
  if (values["vars-file"] !== undefined) {
    let text: string;
    try {
      text = await readFile(values["vars-file"], "utf8");
    } catch (err) {
      usage(`--vars-file: cannot read ${values["vars-file"]}: ${err instanceof Error ? err.message : String(err)}`);
    }
    secrets = Object.fromEntries(Object.entries(parseEnv(text)).filter((e): e is [string, string] => typeof e[1] === "string"));
  } else if (env === undefined) {
    secrets = { AFFINITY_KEYS: DEV_AFFINITY_KEYS, ADMIN_TOKEN: DEV_ADMIN_TOKEN };
  } else {
    secrets = {};
  }

  const read = (name: string | undefined) => unstable_readConfig({ config: configPath, ...(name === undefined ? {} : { env: name }) }, { hideWarnings: true }) as unknown as WranglerEnvConfig;
  const config = read(env);
  const label = env ?? "dev (top level)";
  process.stdout.write(`deploy check: ${label}, Worker ${config.name ?? "?"}, ${configPath}\n`);
  const findings = checkDeployConfig({ env, config, topLevel: read(undefined), secrets });
  const failed = findings.some((f) => f.level === "error");
  if (!failed && values["skip-build"] !== true) findings.push(await dryRun(configPath, env));
  for (const f of findings) process.stdout.write(`  ${f.level.padEnd(5)}  ${f.field}: ${f.message}\n`);

  const errors = findings.filter((f) => f.level === "error");
  const warnings = findings.filter((f) => f.level === "warn").length;
  if (errors.length > 0) {
    process.stderr.write(`deploy check FAILED for ${label}: ${errors.map((f) => f.field).join(", ")}\n`);
    return 1;
  }
  process.stdout.write(`deploy check passed for ${label}${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}\n`);
  return 0;
}

/** `wrangler deploy --dry-run` for the environment, on this process's Node (>= 22). */
async function dryRun(configPath: string, env: string | undefined): Promise<Finding> {
  const outdir = join(REPO_ROOT, ".build", "deploy", env ?? "dev");
  const wrangler = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [wrangler, "deploy", "--dry-run", "--config", configPath, "--outdir", outdir, ...(env === undefined ? [] : ["--env", env])];
  const output: string[] = [];
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d: Buffer) => output.push(d.toString()));
    child.stderr.on("data", (d: Buffer) => output.push(d.toString()));
    child.on("error", fail);
    child.on("exit", done);
  });
  const command = `wrangler deploy --dry-run${env === undefined ? "" : ` --env ${env}`}`;
  if (code !== 0) return { level: "error", field: "build", message: `${command} failed (exit ${code}):\n${output.join("").trim()}` };
  const size = (await stat(join(outdir, "index.js"))).size;
  return { level: "ok", field: "build", message: `${command}: bundle ${outdir}/index.js (${Math.round(size / 1024)} KiB)` };
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`deploy:check: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
