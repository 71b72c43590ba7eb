// The endpoint table: path shape → route, allowed methods, and which listener kinds serve
// it. Listener kinds mirror Lightstreamer's CREATE_ONLY / CONTROL_ONLY ports: `create`
// takes only S requests (new sessions), `control` only CR requests (existing sessions),
// `combined` both. /health answers on every kind (an edge's health checks use the session
// listener); /admin/state and /_debug/requests only on an `admin` listener, which serves
// nothing else — never on a listener an edge relays clients to (issue 16 F2).

import type { ListenerKind } from "./options.ts";

export type RouteName =
  | "health"
  | "admin-state"
  | "debug-requests"
  | "session-create"
  | "ws-create"
  | "session-info"
  | "session-stream"
  | "session-control"
  | "session-ws"
  | "tlcp-create"
  | "tlcp-bind"
  | "tlcp-control"
  | "tlcp-msg"
  | "tlcp-heartbeat"
  | "tlcp-ws";

export type Route = {
  name: RouteName;
  methods: readonly string[];
  kinds: readonly ListenerKind[];
  /** Served through the HTTP Upgrade path (WebSocket). */
  websocket: boolean;
  /** The `:id` path segment for /session/:id/... routes. */
  sessionId?: string;
};

const ALL: readonly ListenerKind[] = ["combined", "create", "control", "admin"];
const ADMIN_ONLY: readonly ListenerKind[] = ["admin"];
const S_ONLY: readonly ListenerKind[] = ["combined", "create"];
const CR_ONLY: readonly ListenerKind[] = ["combined", "control"];

const FIXED: Record<string, Omit<Route, "sessionId">> = {
  "/health": { name: "health", methods: ["GET"], kinds: ALL, websocket: false },
  "/admin/state": { name: "admin-state", methods: ["POST"], kinds: ADMIN_ONLY, websocket: false },
  "/_debug/requests": { name: "debug-requests", methods: ["GET"], kinds: ADMIN_ONLY, websocket: false },
  "/session": { name: "session-create", methods: ["POST"], kinds: S_ONLY, websocket: false },
  "/ws": { name: "ws-create", methods: ["GET"], kinds: S_ONLY, websocket: true },
  // TLCP (Lightstreamer): create_session is S, the rest CR; OPTIONS answers browsers'
  // CORS preflights. The WebSocket is served on every kind; its first request says which
  // it is (see tlcp/ws-transport.ts).
  "/lightstreamer/create_session.txt": { name: "tlcp-create", methods: ["POST", "OPTIONS"], kinds: S_ONLY, websocket: false },
  "/lightstreamer/bind_session.txt": { name: "tlcp-bind", methods: ["POST", "OPTIONS"], kinds: CR_ONLY, websocket: false },
  "/lightstreamer/control.txt": { name: "tlcp-control", methods: ["POST", "OPTIONS"], kinds: CR_ONLY, websocket: false },
  "/lightstreamer/msg.txt": { name: "tlcp-msg", methods: ["POST", "OPTIONS"], kinds: CR_ONLY, websocket: false },
  "/lightstreamer/heartbeat.txt": { name: "tlcp-heartbeat", methods: ["POST", "OPTIONS"], kinds: CR_ONLY, websocket: false },
  "/lightstreamer": { name: "tlcp-ws", methods: ["GET"], kinds: ["combined", "create", "control"], websocket: true },
};

const SESSION_ROUTES: Record<string, Omit<Route, "sessionId">> = {
  "": { name: "session-info", methods: ["GET"], kinds: CR_ONLY, websocket: false },
  "/stream": { name: "session-stream", methods: ["GET"], kinds: CR_ONLY, websocket: false },
  "/control": { name: "session-control", methods: ["POST"], kinds: CR_ONLY, websocket: false },
  "/ws": { name: "session-ws", methods: ["GET"], kinds: CR_ONLY, websocket: true },
};

const SESSION_PATH = /^\/session\/([A-Za-z0-9_-]{1,128})(\/stream|\/control|\/ws)?$/;

export function matchRoute(path: string): Route | undefined {
  const fixed = FIXED[path];
  if (fixed !== undefined) return fixed;
  const match = SESSION_PATH.exec(path);
  if (match === null) return undefined;
  const route = SESSION_ROUTES[match[2] ?? ""];
  const sessionId = match[1];
  return route === undefined || sessionId === undefined ? undefined : { ...route, sessionId };
}
