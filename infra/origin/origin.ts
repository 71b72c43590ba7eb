// startOrigin(): the programmatic entry point used by the CLI, the local stack, tests and
// benchmarks. Wires proxy listeners → one HTTP server → routes, and owns shutdown.

import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { trackHttpConnections, type HttpConnections } from "./http-connections.ts";
import { createEdgeTokenCheck } from "./edge-token.ts";
import { createHttpServer } from "./http-server.ts";
import {
  resolveOriginOptions,
  type ListenerKind,
  type OriginOptions,
  type OriginState,
  type ProxyMode,
  type ResolvedListener,
} from "./options.ts";
import { createProxyListener, type ProxyListener, type ProxyRejection } from "./proxy-listener.ts";
import { RequestLog, type RequestLogEntry } from "./request-log.ts";
import type { OriginRuntime } from "./runtime.ts";
import { SessionStore } from "./sessions.ts";
import { createTlcpService } from "./tlcp/service.ts";

export type { OriginOptions, OriginState, ListenerKind, ProxyMode } from "./options.ts";
export type { RequestLogEntry } from "./request-log.ts";
export type { ProxyRejection } from "./proxy-listener.ts";

export type ListenerInfo = {
  kind: ListenerKind;
  host: string;
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  url: string;
  proxy: ProxyMode;
};

export type RunningOrigin = {
  id: string;
  listeners: ListenerInfo[];
  /** Stops listening, ends streams and WebSockets, drops connections. Idempotent. */
  close(): Promise<void>;
  /** Same entries as GET /_debug/requests. */
  requests(): RequestLogEntry[];
  setState(state: OriginState): void;
  getState(): OriginState;
  sessionCount(): number;
};

export type StartOriginOptions = OriginOptions & {
  /** Called when a connection is closed before HTTP because of its PROXY header (or lack). */
  onConnectionRejected?: (rejection: ProxyRejection) => void;
};

/** How long close() lets streams and WebSockets say goodbye before cutting sockets. */
const CLOSE_GRACE_MS = 500;

export async function startOrigin(options: StartOriginOptions): Promise<RunningOrigin> {
  const resolved = resolveOriginOptions(options);
  const sessions = new SessionStore(resolved.sessionIdleMs);
  const runtime: OriginRuntime = {
    id: resolved.id,
    options: resolved,
    sessions,
    tlcp: createTlcpService(resolved.id, resolved, sessions),
    requestLog: new RequestLog(resolved.requestLogSize, resolved.onRequest),
    state: resolved.state,
    connections: new WeakMap(),
    instance: randomUUID(),
    edgeTokenCheck: resolved.jwksUrl === undefined ? undefined : createEdgeTokenCheck(resolved.id, resolved.jwksUrl),
  };
  const httpServer = createHttpServer(runtime);
  const httpConnections = trackHttpConnections(httpServer);

  const fronts = resolved.listeners.map((listener) =>
    createProxyListener(listener, {
      onConnection(socket, info) {
        runtime.connections.set(socket, info);
        httpConnections.add(socket);
        httpServer.emit("connection", socket);
      },
      onReject(rejection) {
        options.onConnectionRejected?.(rejection);
      },
    }),
  );

  const listeners: ListenerInfo[] = [];
  try {
    for (const [index, front] of fronts.entries()) {
      const config = resolved.listeners[index];
      if (config === undefined) continue;
      listeners.push(await listen(front, config));
    }
  } catch (error) {
    await shutdown(fronts, httpConnections, runtime);
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    id: resolved.id,
    listeners,
    close() {
      closing ??= shutdown(fronts, httpConnections, runtime);
      return closing;
    },
    requests: () => runtime.requestLog.entries(),
    setState(state) {
      runtime.state = state;
    },
    getState: () => runtime.state,
    sessionCount: () => runtime.sessions.size,
  };
}

async function listen(front: ProxyListener, config: ResolvedListener): Promise<ListenerInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new Error(`cannot listen on ${config.kind}=${config.host}:${config.port}: ${error.message}`, { cause: error }));
    };
    front.server.once("error", onError);
    front.server.listen({ host: config.host, port: config.port }, () => {
      front.server.removeListener("error", onError);
      resolve();
    });
  });
  const address = front.server.address() as AddressInfo;
  const host = config.host;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return { kind: config.kind, host, port: address.port, url: `http://${urlHost}:${address.port}`, proxy: config.proxy };
}

async function shutdown(fronts: ProxyListener[], httpConnections: HttpConnections, runtime: OriginRuntime): Promise<void> {
  const closed = fronts.map(
    (front) =>
      new Promise<void>((resolve) => {
        if (!front.server.listening) {
          resolve();
          return;
        }
        // Resolves once every connection this listener accepted is gone.
        front.server.close(() => resolve());
      }),
  );
  for (const front of fronts) front.destroyPending();
  // Streams end cleanly, WebSockets get a 1001 close frame, TLCP streams END.
  runtime.sessions.closeAll("shutdown");
  runtime.tlcp.close();
  await httpConnections.drain(CLOSE_GRACE_MS);
  await Promise.all(closed);
}
