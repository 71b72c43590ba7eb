// The origin-wide state every handler shares: identity, resolved config, the session
// store (and its TLCP side), the request log, the admin state, and what each accepted
// socket told us about itself (listener kind, PROXY header) before HTTP parsing began.

import type { Socket } from "node:net";
import type { EdgeTokenCheck } from "./edge-token.ts";
import type { OriginState, ResolvedOptions } from "./options.ts";
import type { ConnectionInfo } from "./proxy-listener.ts";
import type { RequestLog } from "./request-log.ts";
import type { SessionStore } from "./sessions.ts";
import type { TlcpService } from "./tlcp/service.ts";

export type OriginRuntime = {
  readonly id: string;
  /** Names this run of the process (random at start): a new value tells the edge the node restarted. */
  readonly instance: string;
  readonly options: ResolvedOptions;
  readonly sessions: SessionStore;
  /** TLCP sessions (also in `sessions`) and the DEMO adapter set. */
  readonly tlcp: TlcpService;
  readonly requestLog: RequestLog;
  /** Set by POST /admin/state and RunningOrigin.setState. */
  state: OriginState;
  /** Keyed by the socket the proxy listener handed to the HTTP server. */
  readonly connections: WeakMap<Socket, ConnectionInfo>;
  /** Set with --jwks-url: refuses CR requests without the edge's token for this origin. */
  readonly edgeTokenCheck: EdgeTokenCheck | undefined;
};
