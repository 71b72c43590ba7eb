/**
 * Engine.IO's health probe: a polling handshake (`GET /socket.io/?EIO=4&transport=polling`)
 * must be answered 200 with an open packet (`0{"sid":…}`) — what every socket.io-client
 * does first, so a server that passes it can take sessions. The handshake opens an
 * Engine.IO session that no Socket.IO `connection` follows; the server drops it by itself
 * after pingInterval + pingTimeout (45 s by default), so use an interval of a few seconds.
 */
import { ENGINE_IO_PATH } from "./engine-io.ts";
import { readBoundedText, type HealthProbe } from "./health-probe.ts";

/** An open packet is a few hundred bytes; more is not an Engine.IO handshake. */
const MAX_OPEN_PACKET_BYTES = 4096;
export const ENGINE_IO_PROBE_PATH = `${ENGINE_IO_PATH}?EIO=4&transport=polling`;

export const engineIoProbe: HealthProbe = async function engineIoProbe(baseUrl, fetcher, signal) {
  const res = await fetcher(`${baseUrl}${ENGINE_IO_PROBE_PATH}`, { signal });
  const text = await readBoundedText(res, MAX_OPEN_PACKET_BYTES);
  if (res.status !== 200) {
    return { ok: false, error: `Engine.IO handshake (GET ${ENGINE_IO_PROBE_PATH}) answered ${res.status}, expected 200 with an open packet — is Socket.IO served at ${ENGINE_IO_PATH}?` };
  }
  if (!/^0\{.*"sid"\s*:\s*"[^"]+"/s.test(text)) {
    return { ok: false, error: `Engine.IO handshake answered 200 without an open packet (got ${JSON.stringify(text.slice(0, 60))}) — is this an Engine.IO v4 / Socket.IO 4 server?` };
  }
  return { ok: true };
};
