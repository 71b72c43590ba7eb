/**
 * Stall an origin: its proxy accepts connections but answers nothing, and its open
 * connections freeze, for a few seconds (shorter than a client's liveness timeout); then
 * traffic flows again. The origin is pushed back meanwhile (it skips, and does not number,
 * ticks it cannot write), so its streams resume with contiguous sequence numbers: nobody
 * is interrupted, nothing is lost. S and CR requests that reached it wait, then get answered.
 */
import { PING_INTERVAL_MS } from "../lib/chaos-stack.ts";
import { busiestOrigin, dimensions, snapshot, type Scenario } from "../scenario.ts";

export const stallOrigin: Scenario = {
  name: "stall-origin",
  description: `freeze every connection to the busiest origin (accept, answer nothing), then release`,
  async inject(ctx) {
    const victim = busiestOrigin(ctx);
    const victimId = victim.id;
    const onVictim = ctx.clients.filter((c) => c.origin === victimId);
    const before = new Map(ctx.clients.map((c) => [c, snapshot(c.stats)]));
    const eventsBefore = new Map(onVictim.map((c) => [c, c.stats.events]));
    victim.proxy.set({ mode: "stall" });
    // Shorter than the origin's ping period: a longer freeze ends WebSockets (told, 1011) by design.
    await new Promise((r) => setTimeout(r, Math.min(dimensions(ctx.settings.quick).faultMs, PING_INTERVAL_MS - 1_000)));
    victim.proxy.set({ mode: "pass" });
    return () => {
      const interrupted = ctx.clients.filter((c) => {
        const b = before.get(c);
        return b !== undefined && (c.stats.told > b.told || c.stats.resumed > b.resumed || c.stats.hung > b.hung);
      }).length;
      const flowing = onVictim.filter((c) => c.stats.events > (eventsBefore.get(c) ?? 0)).length;
      return [
        { what: "no session was interrupted by the stall", ok: interrupted === 0, detail: `${interrupted} interrupted` },
        { what: `streams on ${victimId} flowed again after it`, ok: onVictim.length > 0 && flowing === onVictim.length, detail: `${flowing}/${onVictim.length}` },
      ];
    };
  },
};
