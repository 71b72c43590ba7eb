/**
 * The `tcp` check: the origin accepts a connection (over `connect()` from
 * cloudflare:sockets; a `tcp` transport origin first gets the PROXY header it expects).
 * What every server passes while it listens, and fails while it is down.
 */
import type { HealthSettings } from "../../../config/health-settings.ts";
import type { Connector } from "./origin-access.ts";
import { describeError, type HealthReport } from "./report.ts";

export async function tcpCheck(url: string, h: HealthSettings, connect: Connector): Promise<HealthReport> {
  const host = new URL(url).host;
  try {
    await connect(url, h.timeoutMs);
    return { ok: true, state: "active", note: "TCP connect accepted" };
  } catch (err) {
    const { timedOut } = describeError(err, h.timeoutMs);
    // openOriginConnection's messages start "connect to <host> failed: …"; keep only the cause.
    const cause = (err instanceof Error ? err.message : String(err)).replace(/^connect to \S+ (failed|refused): /, "");
    return {
      ok: false,
      error: timedOut
        ? `TCP connect to ${host} timed out after ${h.timeoutMs} ms — the host is down or a firewall drops the packets`
        : `TCP connect to ${host} failed (${cause}) — is the server running and listening on that port?`,
    };
  }
}
