/**
 * Opens the raw connection to an origin: `connect()` from cloudflare:sockets, the PROXY
 * header as the very first bytes, then — for an https origin — TLS.
 *
 * Order matters for TLS: a PROXY-aware listener (HAProxy `send-proxy` + `ssl`, a
 * Lightstreamer https_server with proxy_protocol_enabled) reads the PROXY header in clear
 * *before* the TLS ClientHello. `secureTransport: "on"` would start TLS at once, so https
 * origins use `"starttls"`: write the header in clear, then upgrade with startTls(),
 * which checks the certificate against the origin's host name.
 */
import { connect } from "cloudflare:sockets";
import { connectionOf, type Connection } from "./connection.ts";
import { urlPort } from "./proxy-header.ts";

/** How long a TCP connect may take before the origin counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 10_000;

export class OriginConnectError extends Error {
  override readonly name = "OriginConnectError";
}

export async function openOriginConnection(originUrl: string, proxyHeader: Uint8Array, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Connection> {
  const url = new URL(originUrl);
  // URL keeps IPv6 literals bracketed; connect() wants the bare address.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const secure = url.protocol === "https:";
  let socket: Socket;
  try {
    socket = connect({ hostname, port: urlPort(url) }, { secureTransport: secure ? "starttls" : "off", allowHalfOpen: false });
  } catch (err) {
    throw new OriginConnectError(`connect to ${url.host} refused: ${message(err)}`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OriginConnectError(`connect to ${url.host} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([socket.opened, timeout]);
    // In clear text the header rides with the first request bytes (see connectionOf).
    if (!secure) return connectionOf(socket.readable, socket.writable, () => socket.close(), proxyHeader);
    // Before TLS it must go on its own: the handshake that follows waits for it anyway.
    const writer = socket.writable.getWriter();
    await Promise.race([writer.write(proxyHeader), timeout]);
    writer.releaseLock();
    // The certificate is checked against the host name connect() was given.
    const tls = socket.startTls();
    return connectionOf(tls.readable, tls.writable, () => tls.close());
  } catch (err) {
    socket.close().catch(() => {
      // The socket never opened; there is nothing to close.
    });
    throw err instanceof OriginConnectError ? err : new OriginConnectError(`connect to ${url.host} failed: ${message(err)}`);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
