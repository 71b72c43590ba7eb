/**
 * Client → nginx → origin. The client makes up a random `pebench` cookie before its S
 * request and keeps sending it; nginx hashes on it (`hash $cookie_pebench consistent`), so
 * CR requests reach the origin that created the session.
 */
import { randomBytes } from "node:crypto";
import { NGINX_STICKY_COOKIE } from "../peers/nginx.ts";
import type { PeerOrigin, RunningPeer } from "../peers/peer.ts";
import type { Target } from "./target.ts";

/** `start` runs another instance of the same peer in front of other origins (balance scenarios). */
export function nginxTarget(peer: RunningPeer, start: (origins: readonly PeerOrigin[]) => Promise<RunningPeer>): Target {
  return {
    name: "nginx",
    path: `client → nginx ${peer.version} (hash $cookie_${NGINX_STICKY_COOKIE}) → origin`,
    nextBase: () => peer.url,
    createHeaders: () => ({ cookie: `${NGINX_STICKY_COOKIE}=${randomBytes(8).toString("hex")}` }),
    affinity(created) {
      const cookie = created.requestHeaders.cookie;
      if (cookie === undefined) return "the S request carried no sticky cookie";
      return { base: peer.url, headers: { cookie } };
    },
    pids: () => peer.pids(),
    sourceBase: peer.sourceUrl,
    async inFrontOf(origins) {
      const other = await start(origins);
      return { target: nginxTarget(other, start), close: () => other.stop() };
    },
  };
}
