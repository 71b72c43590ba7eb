// The TCP front of one listener: accepts a connection, settles its PROXY header question
// (require / accept / refuse, trusted or not), then hands the socket, with any bytes read
// past the header pushed back, to the shared HTTP server.
//
// Every failure here ends exactly one connection: no header in time, a garbage or
// truncated header, a header where none is allowed. Nothing is thrown to the server.

import { createServer, type Server, type Socket } from "node:net";
import { normalizeAddress } from "./address-match.ts";
import type { ConnectionAddresses } from "./client-address.ts";
import type { ResolvedListener } from "./options.ts";
import { verifyProxyAuth } from "./proxy-auth.ts";
import { detectProxySignature, maxHeaderLength, parseProxyHeader, type ProxyHeader } from "./proxy-protocol.ts";

export type ConnectionInfo = ConnectionAddresses & {
  listener: ResolvedListener;
  /** An untrusted peer sent a header and the policy was "ignore": it was stripped unused. */
  ignoredProxy: boolean;
  /** The key id whose push-edge auth TLV the header carried and passed, if any. */
  proxyAuthKid: string | null;
};

export type ProxyRejection = { listener: ResolvedListener; peer: string; reason: string };

export type ProxyListenerHandlers = {
  /** The socket is ready for HTTP; `info` says who is behind it. */
  onConnection(socket: Socket, info: ConnectionInfo): void;
  onReject?(rejection: ProxyRejection): void;
};

export type ProxyListener = {
  server: Server;
  /** Destroys connections still waiting for their header (handed-off ones belong to HTTP). */
  destroyPending(): void;
};

export function createProxyListener(listener: ResolvedListener, handlers: ProxyListenerHandlers): ProxyListener {
  const pending = new Set<Socket>();
  const server = createServer({ noDelay: true, pauseOnConnect: false }, function acceptConnection(socket) {
    pending.add(socket);
    socket.once("close", () => pending.delete(socket));
    negotiate(socket, listener, {
      onConnection(ready, info) {
        pending.delete(ready);
        handlers.onConnection(ready, info);
      },
      onReject(rejection) {
        pending.delete(socket);
        handlers.onReject?.(rejection);
      },
    });
  });
  return {
    server,
    destroyPending() {
      for (const socket of pending) socket.destroy();
      pending.clear();
    },
  };
}

type Decision =
  | { kind: "wait" }
  | { kind: "reject"; reason: string }
  | { kind: "accept"; header: ProxyHeader | null; consumed: number; ignored: boolean; authKid: string | null };

/**
 * What to do with the bytes received so far. Pure apart from reading the config, so the
 * mode/trust matrix reads in one place.
 */
export function decide(bytes: Buffer, listener: ResolvedListener, trusted: boolean, now = Date.now()): Decision {
  const signature = detectProxySignature(bytes);
  if (signature === "partial") return { kind: "wait" };
  if (signature === "absent") {
    return listener.proxy === "require"
      ? { kind: "reject", reason: "PROXY header required but absent" }
      : { kind: "accept", header: null, consumed: 0, ignored: false, authKid: null };
  }
  if (listener.proxy === "refuse") return { kind: "reject", reason: "PROXY header refused on this listener" };
  if (!trusted && listener.proxyUntrusted === "reject") {
    return { kind: "reject", reason: "PROXY header from an untrusted source" };
  }
  const parsed = parseProxyHeader(bytes, { maxV2Length: listener.proxyMaxHeaderBytes });
  switch (parsed.status) {
    case "incomplete":
      return { kind: "wait" };
    case "invalid":
      return { kind: "reject", reason: `malformed PROXY header: ${parsed.reason}` };
    case "absent": // unreachable: the signature was seen above
      return { kind: "reject", reason: "PROXY header vanished" };
    case "complete": {
      if (!trusted) return { kind: "accept", header: null, consumed: parsed.header.length, ignored: true, authKid: null };
      if (listener.proxyAuth === null) {
        return { kind: "accept", header: parsed.header, consumed: parsed.header.length, ignored: false, authKid: null };
      }
      const auth = verifyProxyAuth(bytes, parsed.header, listener.proxyAuth, now);
      if (!auth.ok) return { kind: "reject", reason: `PROXY header authentication failed: ${auth.reason}` };
      return { kind: "accept", header: parsed.header, consumed: parsed.header.length, ignored: false, authKid: auth.kid };
    }
  }
}

function negotiate(socket: Socket, listener: ResolvedListener, handlers: Required<ProxyListenerHandlers>): void {
  const peer = normalizeAddress(socket.remoteAddress ?? "");
  const trusted = listener.proxyTrusted.has(peer);
  let buffered: Buffer = Buffer.alloc(0);
  let settled = false;
  const maxBuffered = maxHeaderLength({ maxV2Length: listener.proxyMaxHeaderBytes }) + 64;

  // Until settled, errors (ECONNRESET from a client that gave up) are just the end of it.
  const onError = (): void => finish();
  // In accept/refuse mode the first bytes decide, so the same deadline covers a client
  // that connects and says nothing: it holds a socket without being an HTTP client yet.
  const timer = setTimeout(() => {
    const within = `within ${listener.proxyTimeoutMs} ms`;
    if (buffered.length > 0) reject(`incomplete PROXY header ${within}`);
    else reject(`no ${listener.proxy === "require" ? "PROXY header" : "bytes"} ${within}`);
  }, listener.proxyTimeoutMs);

  function finish(): void {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener("data", onData);
    socket.removeListener("end", onEnd);
  }

  function reject(reason: string): void {
    if (settled) return;
    finish();
    socket.destroy();
    handlers.onReject({ listener, peer, reason });
  }

  function onEnd(): void {
    reject("connection ended before a request");
  }

  function onData(chunk: Buffer): void {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const decision = decide(buffered, listener, trusted);
    if (decision.kind === "wait") {
      // The parser bounds headers itself; this only guards against a logic slip.
      if (buffered.length > maxBuffered) reject("PROXY header too long");
      return;
    }
    if (decision.kind === "reject") {
      reject(decision.reason);
      return;
    }
    finish();
    socket.pause();
    const rest = buffered.subarray(decision.consumed);
    // Give the HTTP parser the request bytes that arrived in the same chunk as the header.
    if (rest.length > 0) socket.unshift(rest);
    handlers.onConnection(socket, {
      listener,
      peer,
      proxy: decision.header,
      ignoredProxy: decision.ignored,
      proxyAuthKid: decision.authKid,
    });
    // The HTTP server reads the handle directly for new bytes, but the unshifted ones sit in
    // the paused JS stream; resuming flushes them to the parser on the next tick, before
    // any later network read, so request bytes keep their order.
    socket.resume();
  }

  socket.on("error", onError);
  socket.on("data", onData);
  socket.on("end", onEnd);
}
