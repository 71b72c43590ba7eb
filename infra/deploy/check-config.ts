/**
 * What `npm run deploy:check` checks in one wrangler environment before anything is
 * uploaded — with wrangler's own reading of wrangler.toml and the Worker's own parsers
 * (infra/local/validate-config.ts), so a bad field is named here rather than as a 500 on
 * the first request in production. Pure: the caller reads files and runs wrangler.
 */
import { isIP } from "node:net";
import { validateEdgeVars } from "../local/validate-config.ts";
import { ConfigError, resolveConfig } from "../../config/config.ts";
import { adminHostAllowed, adminTokens } from "../../workers/edge/routes/admin-access.ts";
import { resolveKeyRing } from "../../workers/edge/token/keyring.ts";
import { catchAllAdminHosts, repositorySecrets } from "./check-unsafe.ts";
import { MIN_ADMIN_TOKEN_LENGTH, SECRETS } from "./secrets.ts";

export interface Finding {
  readonly level: "ok" | "warn" | "error";
  /** The field a person has to fix (or the topic of an ok line). */
  readonly field: string;
  readonly message: string;
}

interface Binding {
  readonly name: string;
  readonly class_name: string;
  readonly script_name?: string | undefined;
}

interface Migration {
  readonly tag: string;
  readonly new_classes?: readonly string[] | undefined;
  readonly new_sqlite_classes?: readonly string[] | undefined;
  readonly deleted_classes?: readonly string[] | undefined;
  readonly renamed_classes?: ReadonlyArray<{ from: string; to: string }> | undefined;
}

/** The parts of a resolved wrangler config (wrangler's `Config`) the check reads. */
export interface WranglerEnvConfig {
  readonly name?: string | undefined;
  readonly vars: Record<string, unknown>;
  readonly durable_objects: { readonly bindings: readonly Binding[] };
  readonly migrations: readonly Migration[];
  readonly routes?: ReadonlyArray<string | { pattern: string }> | undefined;
  readonly route?: string | undefined;
  readonly workers_dev?: boolean | undefined;
  readonly analytics_engine_datasets?: ReadonlyArray<{ binding: string }> | undefined;
}

export interface CheckInput {
  /** Undefined: the top level (dev). */
  readonly env: string | undefined;
  readonly config: WranglerEnvConfig;
  /** The top level, to compare the bindings an environment must repeat. */
  readonly topLevel: WranglerEnvConfig;
  /** Secrets as `wrangler secret put` will set them (from --vars-file). */
  readonly secrets: Record<string, string>;
}

export function checkDeployConfig(input: CheckInput): Finding[] {
  const findings: Finding[] = [];
  const where = input.env === undefined ? "" : `env.${input.env}.`;
  const production = input.env !== undefined;

  // Durable Object bindings are not inherited by environments: each must repeat them.
  const bindings = input.config.durable_objects.bindings;
  const missing = input.topLevel.durable_objects.bindings.filter((top) => !bindings.some((b) => b.name === top.name && b.class_name === top.class_name));
  if (missing.length > 0) {
    findings.push({
      level: "error",
      field: `${where}durable_objects.bindings`,
      message: `missing ${missing.map((b) => `${b.name} (${b.class_name})`).join(", ")}: environments do not inherit Durable Object bindings; repeat the top level's`,
    });
  } else {
    findings.push({ level: "ok", field: "durable_objects.bindings", message: bindings.map((b) => `${b.name} (${b.class_name})`).join(", ") });
  }
  // Analytics Engine (optional metrics) is not inherited either; without it the edge writes no data points.
  const datasets = input.config.analytics_engine_datasets ?? [];
  for (const top of input.topLevel.analytics_engine_datasets ?? []) {
    if (!datasets.some((d) => d.binding === top.binding)) {
      findings.push({ level: "warn", field: `${where}analytics_engine_datasets`, message: `no ${top.binding} binding (the top level has one): this environment writes no Analytics Engine data` });
    }
  }
  const classes = migratedClasses(input.config.migrations);
  const unmigrated = bindings.filter((b) => b.script_name === undefined && !classes.has(b.class_name));
  if (unmigrated.length > 0) {
    findings.push({ level: "error", field: "migrations", message: `no migration creates ${unmigrated.map((b) => b.class_name).join(", ")}` });
  } else {
    findings.push({ level: "ok", field: "migrations", message: `${input.config.migrations.map((m) => m.tag).join(", ")} create every bound class` });
  }

  // Secrets belong to `wrangler secret put`, never to [vars].
  for (const secret of SECRETS) {
    if (secret.name in input.config.vars) {
      findings.push({ level: "error", field: `${where}vars.${secret.name}`, message: "is a secret: remove it from wrangler.toml and use wrangler secret put" });
    }
  }

  const routes = (input.config.routes ?? (input.config.route === undefined ? [] : [input.config.route])).map((r) => (typeof r === "string" ? r : r.pattern));
  if (production && routes.length === 0 && input.config.workers_dev !== true) {
    findings.push({ level: "warn", field: `${where}routes`, message: "no route and workers_dev is off: the Worker will not be reachable" });
  } else if (routes.length > 0) {
    findings.push({ level: "ok", field: "routes", message: routes.join(", ") });
  }

  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.config.vars)) if (typeof v === "string") vars[k] = v;
  Object.assign(vars, input.secrets);
  // "push.example.com/*" → push.example.com (patterns with a wildcard host name no single host).
  const routeHosts = routes.map((r) => r.split("/")[0] ?? "").filter((h) => h !== "" && !h.includes("*"));
  findings.push(...checkEdgeVars(vars, where, production, routeHosts));
  return findings;
}

/** POOLS, settings and the key ring through the Worker's own parsers, then deployment-only rules. */
function checkEdgeVars(vars: Record<string, string>, where: string, production: boolean, routeHosts: readonly string[]): Finding[] {
  try {
    validateEdgeVars(vars);
  } catch (err) {
    const cause = err instanceof Error ? err.cause : undefined;
    if (!(cause instanceof ConfigError)) throw err;
    const secret = SECRETS.some((s) => cause.field.startsWith(s.name));
    const why = cause.message.slice(cause.field.length + 2); // ConfigError messages are "<field>: <why>"
    return [{ level: "error", field: cause.field, message: `${why}${secret ? " (a secret: give it in --vars-file)" : ` (in ${where}vars)`}` }];
  }
  const config = resolveConfig(vars);
  const keys = resolveKeyRing(vars);
  const findings: Finding[] = [];
  const origins = config.pools.flatMap((p) => p.origins.map((o, i) => ({ pool: p, o, field: `POOLS.pools[${config.pools.indexOf(p)}].origins[${i}].url` })));
  findings.push({
    level: "ok",
    field: "POOLS",
    message: `${plural(config.pools.length, "pool")} (${config.pools.map((p) => `${p.name}: ${p.hosts.join(" ")}`).join("; ")}), ${plural(origins.length, "origin")}`,
  });
  findings.push({ level: "ok", field: "AFFINITY_KEYS", message: `${plural(keys.kids.length, "key")} (${keys.kids.join(", ")}), signing kid ${keys.signingKid}` });
  if (!production) return findings;

  for (const { o, field } of origins) {
    const host = new URL(o.url).hostname.replace(/^\[|\]$/g, "");
    if (o.transport === "fetch" && isIP(host) !== 0) {
      findings.push({ level: "error", field, message: `${o.url}: Workers cannot fetch() a bare IP address; give the origin a host name (DNS-only is enough)` });
    } else if (new URL(o.url).protocol === "http:") {
      findings.push({ level: "warn", field, message: `${o.url}: plain http between the edge and the origin crosses the internet unencrypted` });
    }
  }
  const admins = adminTokens(vars);
  if (admins.length === 0) {
    findings.push({ level: "warn", field: "ADMIN_TOKEN", message: "neither ADMIN_TOKEN nor ADMIN_TOKENS is set: the admin API and the push-edge CLI will be disabled" });
  }
  for (const t of admins) {
    const field = t.name === "admin" && vars.ADMIN_TOKEN === t.token ? "ADMIN_TOKEN" : `ADMIN_TOKENS.${t.name}`;
    if (t.token.length < MIN_ADMIN_TOKEN_LENGTH) {
      findings.push({ level: "error", field, message: `shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters: generate one with openssl rand -base64 32` });
    }
  }
  // Secrets any reader of this repository knows, and an admin API on every public host.
  findings.push(...repositorySecrets(vars.AFFINITY_KEYS, admins, vars.ADMIN_TOKEN));
  findings.push(...catchAllAdminHosts(vars.ADMIN_HOSTS, config));
  // The admin API answers only on admin hosts (ADMIN_HOSTS; by default hosts no pool names).
  const adminRouted = routeHosts.filter((h) => adminHostAllowed(vars.ADMIN_HOSTS, config, h));
  if (admins.length > 0 && routeHosts.length > 0) {
    findings.push(
      adminRouted.length === 0
        ? { level: "warn", field: "ADMIN_HOSTS", message: `no route's host serves the admin API (routes: ${routeHosts.join(", ")}); the push-edge CLI cannot reach it` }
        : { level: "ok", field: "ADMIN_HOSTS", message: `admin API on ${adminRouted.join(", ")}` },
    );
  }
  return findings;
}

/** Classes that exist after all migrations ran (created, renamed, not deleted). */
function migratedClasses(migrations: readonly Migration[]): Set<string> {
  const classes = new Set<string>();
  for (const m of migrations) {
    for (const c of [...(m.new_classes ?? []), ...(m.new_sqlite_classes ?? [])]) classes.add(c);
    for (const r of m.renamed_classes ?? []) {
      classes.delete(r.from);
      classes.add(r.to);
    }
    for (const c of m.deleted_classes ?? []) classes.delete(c);
  }
  return classes;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
