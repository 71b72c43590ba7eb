/** What the S and CR paths both work from, once a request is matched to a pool and adapter. */
import type { PoolConfig } from "../../../config/config.ts";
import type { RequestObservation } from "../../../observability/request-observation.ts";
import type { Failure, ProtocolAdapter } from "../../../protocols/adapter.ts";
import type { OutboundRequest } from "../relay/session-request.ts";
import type { ClientSlot } from "../../../relay/websocket-relay.ts";
import type { EdgeRuntime } from "../runtime.ts";

export interface RouteContext {
  readonly env: Env;
  readonly runtime: EdgeRuntime;
  readonly pool: PoolConfig;
  readonly adapter: ProtocolAdapter;
  /** The client's request as received. */
  readonly request: Request;
  /** The request as it goes on toward the origin. */
  readonly outbound: OutboundRequest;
  /** How this request's failures are told to the client (the adapter's words for it). */
  readonly failure: Failure;
  /** Metrics and logs of this request (observability/); hooks are one call each. */
  readonly observation: RequestObservation;
  /**
   * The first-message path's accepted client socket: a WebSocket leg the edge pumps itself
   * (relay mode `edge`) goes straight into it and marks it adopted.
   */
  readonly client?: ClientSlot;
}
