/**
 * The session object's answer when it admits a long-lived leg that the edge pumps itself
 * (relay mode `edge`): a header on its response. For a WebSocket the response carries no
 * origin answer (the edge opens the origin's WebSocket); for a stream it is the origin's
 * response, body untouched, which the edge passes on through a RelayedStream it can end.
 */
import { DEFAULT_LIMITS } from "../../config/limits.ts";
import { transportFromWire, transportToWire, type TransportSettings, type TransportWire } from "../../relay/transport/settings.ts";
import type { Leg, LegKind } from "./legs.ts";
import type { SessionRecord } from "./store.ts";

export const LEG_HEADER = "x-push-edge-leg";

/**
 * A stream handed back before the protocol adapter's rewrite (`created`: an S answer,
 * `relayed`: a CR answer): the edge applies it, so no part of the stream runs through the
 * object. `originSessionId` is the object's, for the adapter.
 */
export type StreamRewrite = "created" | "relayed";

export interface LegGrant {
  readonly leg: string;
  readonly kind: LegKind;
  readonly rewrite?: StreamRewrite;
  readonly originSessionId?: string | null;
  /** Everything the edge needs to open a WebSocket leg to the session's origin. */
  readonly origin?: {
    readonly url: string;
    readonly transport: TransportSettings;
    readonly originSessionId: string | null;
    readonly maxMessageBytes: number;
    readonly maxQueuedBytes: number;
  };
}

interface GrantWire {
  readonly leg: string;
  readonly kind: LegKind;
  readonly rewrite?: StreamRewrite;
  readonly originSessionId?: string | null;
  /** `maxQueuedBytes` absent: a grant written before the queue budget existed (the default applies). */
  readonly origin?: TransportWire & { url: string; originSessionId: string | null; maxMessageBytes: number; maxQueuedBytes?: number };
}

export function encodeGrant(grant: LegGrant): string {
  const wire: GrantWire = {
    leg: grant.leg,
    kind: grant.kind,
    ...(grant.rewrite === undefined ? {} : { rewrite: grant.rewrite, originSessionId: grant.originSessionId ?? null }),
    ...(grant.origin === undefined
      ? {}
      : {
          origin: {
            url: grant.origin.url,
            originSessionId: grant.origin.originSessionId,
            maxMessageBytes: grant.origin.maxMessageBytes,
            maxQueuedBytes: grant.origin.maxQueuedBytes,
            ...transportToWire(grant.origin.transport),
          },
        }),
  };
  return JSON.stringify(wire);
}

/** Reads a grant the session object wrote; undefined when absent or malformed. */
export function decodeGrant(value: string | null): LegGrant | undefined {
  if (value === null) return undefined;
  try {
    const raw = JSON.parse(value) as Partial<GrantWire>;
    if (typeof raw.leg !== "string" || (raw.kind !== "websocket" && raw.kind !== "stream" && raw.kind !== "poll")) return undefined;
    if (raw.origin === undefined) {
      if (raw.rewrite !== "created" && raw.rewrite !== "relayed") return { leg: raw.leg, kind: raw.kind };
      const originSessionId = typeof raw.originSessionId === "string" ? raw.originSessionId : null;
      return { leg: raw.leg, kind: raw.kind, rewrite: raw.rewrite, originSessionId };
    }
    const transport = transportFromWire(raw.origin);
    if (transport === undefined || typeof raw.origin.url !== "string" || typeof raw.origin.maxMessageBytes !== "number") return undefined;
    const maxQueuedBytes = typeof raw.origin.maxQueuedBytes === "number" ? raw.origin.maxQueuedBytes : DEFAULT_LIMITS.webSocketQueueBytes;
    return {
      leg: raw.leg,
      kind: raw.kind,
      origin: { url: raw.origin.url, transport, originSessionId: raw.origin.originSessionId ?? null, maxMessageBytes: raw.origin.maxMessageBytes, maxQueuedBytes },
    };
  } catch {
    return undefined;
  }
}

/** Mode `edge`: the admission of a leg, with what the isolate needs to open it to the origin itself. */
export function grantResponse(record: SessionRecord, leg: Leg): Response {
  const grant = encodeGrant({
    leg: leg.id,
    kind: leg.kind,
    origin: {
      url: record.originUrl,
      transport: record.originTransport,
      originSessionId: record.originSessionId,
      maxMessageBytes: record.limits.webSocketMessageBytes,
      maxQueuedBytes: record.limits.webSocketQueueBytes,
    },
  });
  return new Response(null, { status: 204, headers: { [LEG_HEADER]: grant } });
}
