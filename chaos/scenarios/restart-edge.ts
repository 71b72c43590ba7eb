/**
 * Restart the edge process (workerd) on the same port, with Durable Object storage on
 * disk. Every stream through the edge breaks; each client reattaches to its same session
 * with its same token, and because the session objects' state survived, every CR request
 * after the restart finds its session and lands on the session's own origin.
 */
import { snapshot, type Scenario } from "../scenario.ts";

export const restartEdge: Scenario = {
  name: "restart-edge",
  description: "stop workerd and start it again on the same port (DO state on disk)",
  persist: true,
  async inject(ctx) {
    const before = new Map(ctx.clients.map((c) => [c, { ...snapshot(c.stats), origin: c.origin }]));
    await ctx.stack.restartEdge();
    await new Promise((r) => setTimeout(r, ctx.settings.quick ? 3_000 : 6_000));
    return () => {
      const resumed = ctx.clients.filter((c) => c.stats.resumed > (before.get(c)?.resumed ?? 0));
      const sameOrigin = resumed.filter((c) => c.origin === before.get(c)?.origin).length;
      const toldGone = ctx.clients.filter((c) => Object.keys(c.stats.toldBy).some((k) => k.includes("session_not_found"))).length;
      return [
        { what: "every client got its same session back after the restart", ok: resumed.length === ctx.clients.length, detail: `${resumed.length}/${ctx.clients.length}` },
        { what: "on its own origin", ok: sameOrigin === resumed.length, detail: `${sameOrigin}/${resumed.length}` },
        { what: "no session object forgot its session", ok: toldGone === 0, detail: `${toldGone} told session_not_found` },
      ];
    };
  },
};
