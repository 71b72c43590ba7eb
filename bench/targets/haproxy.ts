/**
 * Client → HAProxy → origin. S requests are balanced round robin and answered with
 * HAProxy's `SRV` cookie; CR requests send it back, so they reach the same origin.
 */
import type { PeerOrigin, RunningPeer } from "../peers/peer.ts";
import { headerValue, type Target } from "./target.ts";

/** `start` runs another instance of the same peer in front of other origins (balance scenarios). */
export function haproxyTarget(peer: RunningPeer, start: (origins: readonly PeerOrigin[]) => Promise<RunningPeer>): Target {
  return {
    name: "haproxy",
    path: `client → HAProxy ${peer.version} (cookie SRV insert) → origin`,
    nextBase: () => peer.url,
    affinity(created) {
      const setCookie = created.headers["set-cookie"];
      const srv = (Array.isArray(setCookie) ? setCookie : [setCookie ?? ""]).map((c) => /^SRV=([^;]*)/.exec(c)?.[1]).find((v) => v !== undefined);
      if (srv === undefined) return `S response ${created.status} carried no SRV cookie (${headerValue(created.headers, "set-cookie") ?? "no set-cookie"})`;
      return { base: peer.url, headers: { cookie: `SRV=${srv}` } };
    },
    pids: () => peer.pids(),
    sourceBase: peer.sourceUrl,
    async inFrontOf(origins) {
      const other = await start(origins);
      return { target: haproxyTarget(other, start), close: () => other.stop() };
    },
  };
}
