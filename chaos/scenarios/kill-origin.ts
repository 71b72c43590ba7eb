/**
 * Kill an origin (the busiest) mid-stream (SIGKILL: no goodbye on any connection). Every session it
 * held must be told to reconnect — a WebSocket close, the end of its SSE stream or a 502
 * on its next CR request — and then live on elsewhere; sessions on the other origins go
 * on untouched.
 */
import { fetchOriginLog } from "../lib/checks.ts";
import { busiestOrigin, snapshot, type Scenario } from "../scenario.ts";

export const killOrigin: Scenario = {
  name: "kill-origin",
  description: `SIGKILL the busiest origin while its streams run`,
  async inject(ctx) {
    const victim = busiestOrigin(ctx);
    const victimId = victim.id;
    const onVictim = ctx.clients.filter((c) => c.origin === victimId);
    const others = ctx.clients.filter((c) => c.origin !== undefined && c.origin !== victimId);
    const before = new Map(ctx.clients.map((c) => [c, snapshot(c.stats)]));
    // Its log dies with it: keep what reached it so far for the misroute check.
    ctx.savedLogs.push(await fetchOriginLog(victim.id, victim.adminUrl));
    victim.process.child.kill("SIGKILL");
    await new Promise<void>((resolve) => victim.process.child.once("exit", () => resolve()));
    await new Promise((r) => setTimeout(r, ctx.settings.quick ? 2_500 : 6_000));
    return () => {
      const told = onVictim.filter((c) => c.stats.told > (before.get(c)?.told ?? 0)).length;
      const touched = others.filter((c) => {
        const b = before.get(c);
        return b !== undefined && (c.stats.told > b.told || c.stats.resumed > b.resumed || c.stats.hung > b.hung);
      }).length;
      const moved = onVictim.filter((c) => c.origin !== victimId).length;
      return [
        { what: `every session on ${victimId} was told to reconnect`, ok: onVictim.length > 0 && told === onVictim.length, detail: `${told}/${onVictim.length}` },
        { what: `and opened a new session on another origin`, ok: moved === onVictim.length, detail: `${moved}/${onVictim.length}` },
        { what: "sessions on other origins were not interrupted", ok: touched === 0, detail: `${touched}/${others.length} interrupted` },
      ];
    };
  },
};
