/**
 * WebSockets whose first message, not their URL, says whether they create or rebind a
 * session (TLCP: `create_session` / `bind_session` sent after the upgrade). The edge
 * accepts the client's WebSocket itself, answers preliminaries (`wsok`), and on the
 * opening request takes the S or CR path like any other request — which opens the
 * session object's WebSocket to the origin — then relays between the two with the one
 * pump (relay/message-pump.ts), starting with the opening request. Failures are told in the protocol's words, then the socket closes.
 */
import { closeQuietly, sendQuietly, type ClientSlot } from "../../../relay/websocket-relay.ts";
import { pumpMessages, socketEnd } from "../../../relay/message-pump.ts";
import type { EdgeErrorCode } from "../../../protocols/errors.ts";
import { CLOSE_MESSAGE_TOO_BIG, messageTooBig } from "../../../config/limits.ts";
import { createSession } from "./create-session.ts";
import { relaySession } from "./relay-session.ts";
import type { RouteContext } from "./route-context.ts";

/** How long a client may take to send its opening request. */
export const OPENING_TIMEOUT_MS = 30_000;
/** Messages a client may send before its opening request (preliminaries). */
const MAX_PRELIMINARIES = 4;

export interface FirstMessageInput extends RouteContext {
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

export function firstMessageWebSocket(input: FirstMessageInput): Response {
  const { adapter, request } = input;
  const classifyMessage = adapter.classifyMessage;
  if (classifyMessage === undefined) return input.failure(400, "bad_request", "this protocol has no WebSocket opening");
  const pair = new WebSocketPair();
  const client = pair[0];
  const server = pair[1];
  server.accept();
  // Binary stays bytes (the standard default "blob" would make the relay await each one).
  server.binaryType = "arraybuffer";

  const fail = (code: EdgeErrorCode, message: string): void => {
    try {
      server.send(adapter.messageFailure?.(code, message) ?? message);
    } catch {
      // Already closing.
    }
    closeQuietly(server, 1011, message);
  };
  /** An opening over the protocol-line limit: the protocol's error, then close 1009. */
  const refuse = (code: EdgeErrorCode, message: string): void => {
    sendQuietly(server, adapter.messageFailure?.(code, message) ?? message);
    closeQuietly(server, CLOSE_MESSAGE_TOO_BIG, message);
  };
  let preliminaries = 0;
  let opened = false;
  const timer = setTimeout(() => {
    if (!opened) fail("bad_request", "no opening request in time");
  }, OPENING_TIMEOUT_MS);

  const onMessage = (event: MessageEvent): void => {
    if (opened) return;
    if (typeof event.data !== "string") return fail("bad_request", "opening request must be text");
    const maxLine = input.pool.settings.limits.protocolLineBytes;
    if (messageTooBig(event.data, maxLine)) return refuse("line_too_long", `opening request exceeds ${maxLine} bytes`);
    const meaning = classifyMessage(event.data);
    if (meaning.kind === "reply") {
      if (++preliminaries > MAX_PRELIMINARIES) return fail("bad_request", "too many messages before the opening request");
      server.send(meaning.reply);
      return;
    }
    if (meaning.kind === "refuse") {
      server.send(meaning.reply);
      closeQuietly(server, 1008, "bad opening request");
      return;
    }
    opened = true;
    clearTimeout(timer);
    server.removeEventListener("message", onMessage);
    input.waitUntil(open(input, server, event.data, meaning.kind === "CR" ? meaning.token : undefined, fail));
  };
  server.addEventListener("message", onMessage);
  server.addEventListener("close", () => clearTimeout(timer));

  const protocol = request.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
  return new Response(null, {
    status: 101,
    webSocket: client,
    headers: protocol === undefined ? {} : { "sec-websocket-protocol": protocol },
  });
}

/**
 * Takes the S or CR path with the upgrade request, handing it the accepted client socket:
 * in relay mode `edge` the leg's relay pumps straight into it (the slot is then adopted);
 * otherwise this relays between the client and the session object's WebSocket with the
 * same pump. Messages the client sends meanwhile are queued and go first.
 */
async function open(
  input: FirstMessageInput,
  client: WebSocket,
  opening: string,
  token: string | undefined,
  fail: (code: EdgeErrorCode, message: string) => void,
): Promise<void> {
  const slot: ClientSlot = { socket: client, backlog: [opening], adopted: false };
  const queue = (event: MessageEvent): void => {
    // Once adopted, the relay's own listener carries every message.
    if (!slot.adopted) slot.backlog.push(event.data as string | ArrayBuffer);
  };
  client.addEventListener("message", queue);
  const response =
    token === undefined
      ? await createSession({ ...input, body: undefined, client: slot })
      : await relaySession({ ...input, token, carrier: "tlcp-session", body: undefined, client: slot });
  client.removeEventListener("message", queue);
  if (slot.adopted) {
    await response.body?.cancel();
    return;
  }
  const session = response.webSocket;
  if (session === null) {
    // The S or CR path answered in the protocol's words: pass them on, then close.
    const text = await response.text().catch(() => "");
    if (text !== "") {
      try {
        client.send(text);
      } catch {
        // Client gone.
      }
      closeQuietly(client, 1011, "session unavailable");
    } else {
      fail("origin_unreachable", "session unavailable");
    }
    return;
  }
  session.accept();
  const toSession = socketEnd(session);
  for (const message of slot.backlog.splice(0)) toSession.send(message);
  // The session's own relay (in the object) reports and limits; this one carries, and
  // keeps to the queue budget itself: it reads the object's socket eagerly, so a client
  // that does not read makes this hop hold the backlog, not the object.
  pumpMessages(socketEnd(client), toSession, { onClose: () => {}, maxQueuedBytes: input.pool.settings.limits.webSocketQueueBytes });
}
