/**
 * The `tcp` counterpart of relayWebSocket(): the opening handshake on the raw connection
 * (checked: Sec-WebSocket-Accept, no unoffered extension or subprotocol), then messages
 * both ways between the client's WebSocket and our RFC 6455 client — text stays text,
 * binary stays binary, close codes and reasons cross, the same hooks run.
 *
 * Pings are per hop here too: the origin's pings are answered by our client, the
 * client's by the runtime.
 */
import { originTarget, type RelayOutcome } from "../http-relay.ts";
import { closeQuietly, closeReason, endableRelay, reportOnce, sendableCode, type WebSocketRelayHooks } from "../websocket-relay.ts";
import { endTooBig, overMessageLimit } from "../message-limit.ts";
import type { OriginLink } from "./origin-link.ts";
import type { ProxySettings } from "./settings.ts";
import { exchange } from "./tcp/http1-client.ts";
import { requestHeadRefusal } from "./tcp/http1-refusal.ts";
import { TcpWebSocket } from "./tcp/websocket-client.ts";
import { handshakeHeaders, handshakeProblem, newHandshakeKey } from "./tcp/websocket-handshake.ts";
import { clientResponseHeaders, openTcpOrigin, tcpOriginHeaders } from "./tcp-origin-connection.ts";

/** The origin's 101 headers that belong to its hop's handshake, not the client's. */
const ORIGIN_HANDSHAKE_HEADERS = ["sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-version"];

export async function relayWebSocketOverTcp(
  request: Request,
  link: OriginLink,
  proxy: ProxySettings,
  hooks: WebSocketRelayHooks,
): Promise<RelayOutcome> {
  const target = originTarget(request.url, link.url);
  const key = newHandshakeKey();
  const head = { method: "GET", target: `${target.pathname}${target.search}`, headers: handshakeHeaders(tcpOriginHeaders(request, target), key) };
  // A handshake that cannot be written as asked is the client's bad request, not a failed origin.
  const refused = requestHeadRefusal(head);
  if (refused !== undefined) return { ok: true, response: refused };
  try {
    const connection = await openTcpOrigin(request, link, proxy);
    const result = await exchange(connection, { ...head, body: null });
    // The origin refused the upgrade (404 unknown session, 503 blocked...): its answer is the client's.
    if (result.kind === "response") {
      const { head, body } = result;
      if (head.status > 599) {
        await body?.cancel();
        return { ok: false, reason: `origin answered status ${head.status}` };
      }
      return { ok: true, response: new Response(body, { status: head.status, statusText: head.statusText, headers: clientResponseHeaders(head.headers) }) };
    }
    const problem = await handshakeProblem(result.head, key, request.headers.get("sec-websocket-protocol"));
    if (problem !== undefined) {
      connection.close();
      return { ok: false, reason: problem };
    }
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    server.binaryType = "arraybuffer";
    server.accept();
    if (hooks.firstMessage !== undefined) server.send(hooks.firstMessage);

    const closing = reportOnce(hooks.onClose);
    const onClose = closing.report;
    const origin = new TcpWebSocket(connection, {
      onMessage(data) {
        try {
          server.send(hooks.fromOrigin !== undefined && typeof data === "string" ? hooks.fromOrigin(data) : data);
        } catch {
          // The client is already closing; its close event ends the relay.
        }
      },
      onClose(code, reason) {
        onClose("origin", code, reason);
        closeQuietly(server, code, reason);
      },
    }, hooks.maxMessageBytes === undefined ? {} : { maxMessageBytes: hooks.maxMessageBytes });
    server.addEventListener("message", (event) => {
      const data = event.data;
      if (overMessageLimit(data, hooks.maxMessageBytes)) return endTooBig("client", onClose, hooks.maxMessageBytes ?? 0, [server, origin]);
      try {
        origin.send(hooks.fromClient !== undefined && typeof data === "string" ? hooks.fromClient(data) : data);
      } catch (err) {
        // A rewrite that throws loses that one message, not the session.
        console.error("client → origin message dropped:", err);
      }
    });
    server.addEventListener("close", (event) => {
      onClose("client", event.code, event.reason);
      closeOrigin(origin, event.code, event.reason);
    });
    server.addEventListener("error", () => {
      onClose("client", 1011, "transport error");
      origin.close(1011, "client connection failed");
    });
    origin.start();
    // The client is going away, as far as the origin is concerned.
    hooks.onOpen?.(endableRelay(closing, server, (reason) => origin.close(1001, closeReason(reason))));
    const headers = clientResponseHeaders(result.head.headers, ORIGIN_HANDSHAKE_HEADERS);
    return { ok: true, response: new Response(null, { status: 101, headers, webSocket: client }) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** The client's close, as the origin should hear it (1006 — the client vanished — as 1011). */
function closeOrigin(origin: TcpWebSocket, code: number, reason: string): void {
  const sendable = sendableCode(code);
  if (sendable !== undefined) origin.close(sendable, reason);
  else if (code === 1006) origin.close(1011, "peer connection lost");
  else origin.close();
}
