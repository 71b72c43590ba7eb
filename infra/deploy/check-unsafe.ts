/**
 * Production configurations that parse but are unsafe (F7 of issue 16), for
 * `npm run deploy:check` outside dev. Each finding names the field to fix.
 *  - The repository's development key ring (infra/local/dev-secrets.ts) in AFFINITY_KEYS:
 *    its secret is public (it is in this repository), so anyone could mint tokens for any
 *    session and origin. Compared by the secret's bytes, under whatever kid it is given.
 *  - The repository's development admin token as an admin token.
 *  - A pool serving every host (`"*"`) while ADMIN_HOSTS is empty: the default "any host
 *    no pool names" is then every public host name the Worker is routed on, so the admin
 *    API (and dashboard and metrics) would answer on the clients' own host names.
 */
import type { EdgeConfig } from "../../config/config.ts";
import { hostList } from "../../config/host-name.ts";
import type { AdminToken } from "../../workers/edge/routes/admin-access.ts";
import { DEV_ADMIN_TOKEN, DEV_AFFINITY_KEYS } from "../local/dev-secrets.ts";
import type { Finding } from "./check-config.ts";

/** The HS256 secrets of the repository's development key ring, as bytes (base64url text). */
function devSecrets(): Set<string> {
  const ring = JSON.parse(DEV_AFFINITY_KEYS) as Record<string, unknown>;
  return new Set(Object.values(ring).filter((v): v is string => typeof v === "string").map(secretBytes));
}

function secretBytes(base64url: string): string {
  return Buffer.from(base64url, "base64url").toString("hex");
}

/** AFFINITY_KEYS entries (and admin tokens) that are the repository's development secrets. */
export function repositorySecrets(affinityKeys: string | undefined, admins: readonly AdminToken[], adminTokenVar: string | undefined): Finding[] {
  const findings: Finding[] = [];
  const dev = devSecrets();
  const ring = JSON.parse(affinityKeys ?? "{}") as Record<string, unknown>;
  for (const [kid, value] of Object.entries(ring)) {
    if (typeof value === "string" && dev.has(secretBytes(value))) {
      findings.push({
        level: "error",
        field: `AFFINITY_KEYS.${kid}`,
        message: "is the repository's development HS256 key (infra/local/dev-secrets.ts), which anyone can read: generate a key of your own (infra/deploy/secrets.md)",
      });
    }
  }
  for (const t of admins) {
    if (t.token !== DEV_ADMIN_TOKEN) continue;
    const field = t.name === "admin" && adminTokenVar === t.token ? "ADMIN_TOKEN" : `ADMIN_TOKENS.${t.name}`;
    findings.push({ level: "error", field, message: "is the local stack's development admin token: generate one with openssl rand -base64 32" });
  }
  return findings;
}

/** A "*" pool with ADMIN_HOSTS empty puts the admin API on every public host. */
export function catchAllAdminHosts(adminHosts: string | undefined, config: EdgeConfig): Finding[] {
  if (hostList(adminHosts).length > 0) return [];
  const catchAll = config.pools.findIndex((p) => p.hosts.includes("*"));
  if (catchAll < 0) return [];
  return [
    {
      level: "error",
      field: "ADMIN_HOSTS",
      message: `is empty while POOLS.pools[${catchAll}] serves every host ("*"): the admin API, dashboard and metrics would answer on every public host name; set ADMIN_HOSTS to the host set aside for operations`,
    },
  ];
}
