/** `push-edge status`: every pool's origins — health, operator state, sessions, load. */
import type { OriginView, PoolView } from "../client.ts";
import { GLOBAL_HELP, type Command } from "../command.ts";
import { EXIT, CliError } from "../errors.ts";
import { loadBar, table } from "../format.ts";

export const status: Command = {
  name: "status",
  summary: "table of each pool's origins: health, state, sessions, capacity, load",
  help: `usage: push-edge status [--pool NAME] [--json]

Shows every pool (or only --pool NAME) with its origins: health as the edge's checks (or
real traffic) see it, operator state (active / draining / blocked / maintenance), sessions
the edge placed there (and the origin's own count where it reports another), capacity and
load, and a running drain's progress. Under the table, each down origin's reason and the
health check it gets.
--json prints the edge's pool view: {"pools": [{name, hosts, rebalanced, origins: [...]}]}.

${GLOBAL_HELP}`,
  options: {},
  async run(positionals, values, ctx) {
    if (positionals.length > 0) throw new CliError(EXIT.usage, "usage", `unexpected argument ${JSON.stringify(positionals[0])}`);
    const { pools } = await ctx.client.pools();
    const wanted = typeof values.pool === "string" ? pools.filter((p) => p.name === values.pool) : pools;
    if (typeof values.pool === "string" && wanted.length === 0) {
      throw new CliError(EXIT.failed, "unknown_pool", `no pool named ${JSON.stringify(values.pool)} (pools: ${pools.map((p) => p.name).join(", ")})`);
    }
    if (ctx.json) {
      ctx.out(JSON.stringify({ pools: wanted }, null, 2));
      return EXIT.ok;
    }
    ctx.out(wanted.map((p) => describe(p)).join("\n\n"));
    return EXIT.ok;
  },
};

function describe(pool: PoolView): string {
  const sessions = pool.origins.reduce((sum, o) => sum + o.sessions, 0);
  const head = `pool ${pool.name}  hosts ${pool.hosts.join(", ")}  ${pool.origins.length} origins, ${sessions} sessions, ${pool.rebalanced} moved by rebalancing`;
  if (pool.origins.length === 0) return `${head}\n  (no origins)`;
  return `${head}\n${table(pool.origins, [
    { header: "ORIGIN", value: (o) => o.id },
    { header: "HEALTH", value: health },
    { header: "STATE", value: stateOf },
    { header: "SESSIONS", value: sessionsOf, right: true },
    { header: "CAPACITY", value: (o) => String(o.capacity), right: true },
    { header: "LOAD", value: (o) => loadBar(o.load) },
    { header: "URL", value: (o) => o.url },
  ])}${whyDown(pool.origins)}`;
}

function health(o: OriginView): string {
  if (o.checkedAt === 0) return "unchecked";
  if (o.healthy) return "up";
  return o.errorSource === "traffic" ? "down (traffic)" : "down";
}

/** Under the table, one line per origin that is down: why, and the check it gets — what to act on. */
function whyDown(origins: readonly OriginView[]): string {
  const lines = origins
    .filter((o) => !o.healthy && o.checkedAt !== 0)
    .map((o) => `  ${o.id} is down: ${o.lastError ?? "no reason recorded"}${o.check === undefined ? "" : `\n    check: ${o.check}`}`);
  return lines.length === 0 ? "" : `\n${lines.join("\n")}`;
}

/** The edge's count; the origin's own where it reports a different one (placement uses the smaller). */
function sessionsOf(o: OriginView): string {
  const reported = o.reportedSessions;
  return reported === null || reported === undefined || reported === o.sessions ? String(o.sessions) : `${o.sessions} (origin: ${reported})`;
}

/** The operator's state, the drain's progress, and what the origin says of itself if that differs. */
function stateOf(o: OriginView): string {
  let text = o.state;
  if (o.drain !== null) text += ` ${o.drain.ended} ended @${o.drain.rate}/s`;
  if (o.reportedState !== "unknown" && o.reportedState !== "active" && o.reportedState !== o.state) text += ` (origin: ${o.reportedState})`;
  return text;
}
