/**
 * A slow origin: every chunk between the edge and one origin is held 150 ms (each way),
 * for the length of the fault. Slow is not broken: nobody is interrupted, nothing is lost.
 */
import { busiestOrigin, dimensions, snapshot, type Scenario } from "../scenario.ts";
export const SLOW_DELAY_MS = 150;

export const slowOrigin: Scenario = {
  name: "slow-origin",
  description: `delay every chunk to and from the busiest origin by ${SLOW_DELAY_MS} ms`,
  async inject(ctx) {
    const victim = busiestOrigin(ctx);
    const victimId = victim.id;
    const onVictim = ctx.clients.filter((c) => c.origin === victimId);
    const before = new Map(ctx.clients.map((c) => [c, { ...snapshot(c.stats), events: c.stats.events }]));
    victim.proxy.set({ mode: "slow", delayMs: SLOW_DELAY_MS });
    await new Promise((r) => setTimeout(r, dimensions(ctx.settings.quick).faultMs));
    victim.proxy.set({ mode: "pass" });
    return () => {
      const interrupted = ctx.clients.filter((c) => {
        const b = before.get(c);
        return b !== undefined && (c.stats.told > b.told || c.stats.resumed > b.resumed || c.stats.hung > b.hung);
      }).length;
      const flowing = onVictim.filter((c) => c.stats.events > (before.get(c)?.events ?? 0)).length;
      return [
        { what: "no session was interrupted by the slow origin", ok: interrupted === 0, detail: `${interrupted} interrupted` },
        { what: `streams on ${victimId} kept delivering`, ok: onVictim.length > 0 && flowing === onVictim.length, detail: `${flowing}/${onVictim.length}` },
      ];
    };
  },
};
