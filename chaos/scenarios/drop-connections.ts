/**
 * Drop connections at random: every origin's proxy resets one of its live connections
 * (streams, WebSockets, CR requests, health checks alike) every few hundred ms. Each
 * broken stream must end visibly — the client then reattaches to its session, or is told
 * to start a new one — and never silently skip events.
 */
import { dimensions, snapshot, type Scenario } from "../scenario.ts";

export const DROP_EVERY_MS = 300;

export const dropConnections: Scenario = {
  name: "drop-connections",
  description: `reset a random edge→origin connection on every origin every ${DROP_EVERY_MS} ms`,
  async inject(ctx) {
    const before = new Map(ctx.clients.map((c) => [c, snapshot(c.stats)]));
    for (const o of ctx.stack.origins) o.proxy.set({ mode: "drop", everyMs: DROP_EVERY_MS });
    await new Promise((r) => setTimeout(r, dimensions(ctx.settings.quick).faultMs));
    for (const o of ctx.stack.origins) o.proxy.set({ mode: "pass" });
    const resets = ctx.stack.origins.reduce((n, o) => n + o.proxy.resets, 0);
    return () => {
      const interrupted = ctx.clients.filter((c) => {
        const b = before.get(c);
        return b !== undefined && (c.stats.told > b.told || c.stats.resumed > b.resumed);
      }).length;
      return [
        { what: "connections were reset", ok: resets > 0, detail: `${resets} resets` },
        { what: "some sessions were interrupted (and each resumed or was told)", ok: interrupted > 0, detail: `${interrupted}/${ctx.clients.length} clients` },
      ];
    };
  },
};
