/**
 * `push-edge block|activate|maintenance <origin>`: the operator states of README "Pools"
 * (`drain` has its own command: it watches the drain until it is done).
 */
import type { OriginView, PoolView } from "../client.ts";
import { GLOBAL_HELP, onePositional, positiveFlag, type Command } from "../command.ts";
import { CliError, EXIT } from "../errors.ts";

type SimpleState = "block" | "activate" | "maintenance";

const WHAT: Record<SimpleState, { summary: string; state: "active" | "block" | "maintenance"; says: (o: OriginView) => string }> = {
  block: {
    summary: "stop placing new sessions on an origin; its sessions stay",
    state: "block",
    says: (o) => `${o.id} is now ${o.state}: it takes no new sessions and keeps its ${o.sessions} sessions`,
  },
  activate: {
    summary: "make an origin take new sessions again (undoes drain / block / maintenance)",
    state: "active",
    says: (o) => `${o.id} is now ${o.state}: it takes new sessions again (slow start, then rebalancing)`,
  },
  maintenance: {
    summary: "block and drain an origin at once (--rate sessions per second)",
    state: "maintenance",
    says: (o) => `${o.id} is now in ${o.state}: no new sessions, its ${o.sessions} sessions are being ended`,
  },
};

export function originStateCommand(name: SimpleState): Command {
  const what = WHAT[name];
  return {
    name,
    summary: what.summary,
    help: `usage: push-edge ${name} <origin> [--pool NAME] [--json]${name === "maintenance" ? " [--rate N]" : ""}

${what.summary[0]?.toUpperCase()}${what.summary.slice(1)}.
--json prints the origin as the pool view shows it afterwards.

${GLOBAL_HELP}`,
    options: name === "maintenance" ? { rate: { type: "string" } } : {},
    async run(positionals, values, ctx) {
      const id = onePositional(positionals, "<origin>");
      const rate = positiveFlag(values, "rate");
      const pool = await ctx.client.setOriginState(ctx.pool, id, what.state, rate);
      const origin = originIn(pool, id);
      ctx.out(ctx.json ? JSON.stringify({ pool: pool.name, origin }, null, 2) : what.says(origin));
      return EXIT.ok;
    },
  };
}

export function originIn(pool: PoolView, id: string): OriginView {
  const origin = pool.origins.find((o) => o.id === id);
  if (origin === undefined) throw new CliError(EXIT.failed, "not_found", `pool ${pool.name} has no origin ${id}`);
  return origin;
}
