/**
 * Input limits: how much a client may send before the edge refuses it. Each refusal is
 * told to that one request or WebSocket only — a JSON error with a stable code, the
 * protocol's own error, or a close code with a reason — and nothing else is affected.
 *
 * The defaults are far above what real clients send, so only broken or hostile input
 * meets them:
 * - URL 8 KiB: the request-line limit of common servers (Apache 8190 bytes, nginx 8 KiB
 *   buffers); TLCP and Engine.IO URLs are a few hundred bytes, tokens ~300.
 * - headers 32 KiB in total: nginx's default (4 × 8 KiB buffers); real browsers send
 *   1–4 KiB.
 * - CR request body 1 MiB: Engine.IO's own `maxHttpBufferSize` (1e6) — its polling POSTs
 *   are the biggest CR bodies; TLCP control bodies are a few KiB.
 * - WebSocket message 1 MiB: Engine.IO's limit again, the tcp transport's RFC 6455
 *   client's (relay/transport/tcp/websocket-client.ts), and workerd's
 *   own for a message a Worker receives.
 * - protocol line 64 KiB: a TLCP request line (Lightstreamer's own `request_limit` is
 *   50,000 bytes) or a WebSocket opening message.
 * - body read 30 s: a whole S or CR body (1 MiB at most by default) arrives in well under
 *   a second on any working link; a client that trickles one holds connections no longer
 *   (issue 16 F9; nginx's `client_body_timeout` is 60 s between reads).
 * - WebSocket queue 4 MiB: what the edge may hold for one side of one relay that is not
 *   reading (issue 16 F5) — four messages of the largest size; a push client 4 MiB behind
 *   is half a minute behind on a 1 Mbit/s link, far past any use of the data.
 *
 * Configurable per pool in `POOLS` (`"settings": {"limits": {...}}`); errors name the field.
 */
import { ConfigError } from "./config-error.ts";
import type { EdgeErrorCode } from "../protocols/errors.ts";

export interface Limits {
  /** The request URL (path and query, as received), in bytes. → 414 url_too_long */
  readonly urlBytes: number;
  /** All request headers together (name + value + 4 per header, as on the wire). → 431 headers_too_large */
  readonly headerBytes: number;
  /**
   * A CR request's body: by Content-Length here, while it streams in the session object
   * (relay/body-limit.ts). → 413 body_too_large
   */
  readonly bodyBytes: number;
  /** One WebSocket message, either direction. → close 1009 */
  readonly webSocketMessageBytes: number;
  /** One protocol line: a TLCP request line, a WebSocket opening message. → the protocol's error */
  readonly protocolLineBytes: number;
  /**
   * How long an S or CR request body may take to arrive, whole, in milliseconds: a client
   * trickling a body holds the edge's and the origin's connections no longer than this.
   * → 408 body_timeout, the origin request cut (relay/body-limit.ts)
   */
  readonly bodyReadMs: number;
  /**
   * WebSocket bytes the edge may hold queued toward one side of one relay: sent to it, not
   * yet taken by its connection (relay/queue-budget.ts). Over it, the tcp transport stops
   * reading the origin until the client catches up; anything else ends the relay.
   * → close 1013 on both legs
   */
  readonly webSocketQueueBytes: number;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;

export const DEFAULT_LIMITS: Limits = {
  urlBytes: 8 * KiB,
  headerBytes: 32 * KiB,
  bodyBytes: 1 * MiB,
  webSocketMessageBytes: 1 * MiB,
  protocolLineBytes: 64 * KiB,
  bodyReadMs: 30_000,
  webSocketQueueBytes: 4 * MiB,
};

/** The smallest value each limit may be set to: below it, ordinary clients would break. */
const MINIMUMS: Limits = {
  urlBytes: 256,
  headerBytes: 1 * KiB,
  bodyBytes: 1 * KiB,
  webSocketMessageBytes: 1 * KiB,
  protocolLineBytes: 1 * KiB,
  bodyReadMs: 1_000,
  webSocketQueueBytes: 64 * KiB,
};

/**
 * And the largest. Beyond these the platform's own limits come first: request bodies of
 * 100 MB (Workers Free/Pro), and WebSocket messages a Worker receives — workerd closes a
 * socket with 1009 itself above 1 MiB — so the message limit can be lowered, not raised.
 */
const MAXIMUMS: Limits = {
  urlBytes: 64 * KiB,
  headerBytes: 128 * KiB,
  bodyBytes: 100 * 1000 * 1000,
  webSocketMessageBytes: 1 * MiB,
  protocolLineBytes: 1 * MiB,
  bodyReadMs: 600_000,
  webSocketQueueBytes: 64 * MiB,
};

const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>;

/** The WebSocket close code for a message over the limit (RFC 6455 §7.4.1 "message too big"). */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** The close code for a relay whose queue toward one side is full (1013 "try again later"). */
export const CLOSE_QUEUE_FULL = 1013;

/** Resolves `settings.limits`; every error names the field. */
export function resolveLimits(raw: unknown, field: string): Limits {
  if (raw === undefined) return DEFAULT_LIMITS;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(field, "must be an object");
  const given = raw as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(LIMIT_NAMES as string[]).includes(key)) {
      // A key that is no identifier ("", "a.b") is quoted, so the field still reads as a path.
      const path = /^[A-Za-z_$][\w$]*$/.test(key) ? `${field}.${key}` : `${field}[${JSON.stringify(key)}]`;
      throw new ConfigError(path, `unknown limit (known: ${LIMIT_NAMES.join(", ")})`);
    }
  }
  const out: Record<string, number> = {};
  for (const name of LIMIT_NAMES) {
    const value = given[name];
    if (value === undefined) {
      out[name] = DEFAULT_LIMITS[name];
      continue;
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < MINIMUMS[name] || value > MAXIMUMS[name]) {
      const unit = name.endsWith("Ms") ? "milliseconds" : "bytes";
      throw new ConfigError(`${field}.${name}`, `must be an integer number of ${unit} in [${MINIMUMS[name]}, ${MAXIMUMS[name]}]`);
    }
    out[name] = value;
  }
  return out as unknown as Limits;
}

export interface LimitRefusal {
  readonly status: 413 | 414 | 431;
  readonly code: Extract<EdgeErrorCode, "url_too_long" | "headers_too_large" | "body_too_large">;
  readonly message: string;
}

/** A request's URL and headers against the limits. Reads only lengths: nothing is copied. */
export function requestRefusal(url: string, headers: Iterable<readonly [string, string]>, limits: Limits): LimitRefusal | undefined {
  if (url.length > limits.urlBytes) {
    return { status: 414, code: "url_too_long", message: `the request URL exceeds ${limits.urlBytes} bytes` };
  }
  let headerBytes = 0;
  for (const [name, value] of headers) headerBytes += name.length + value.length + 4;
  if (headerBytes > limits.headerBytes) {
    return { status: 431, code: "headers_too_large", message: `the request headers exceed ${limits.headerBytes} bytes in total` };
  }
  return undefined;
}

/** A CR request's declared body length against the limit (its URL and headers were checked first). */
export function declaredBodyTooLarge(request: Request, limits: Limits): LimitRefusal | undefined {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limits.bodyBytes) {
    return { status: 413, code: "body_too_large", message: `the request body exceeds ${limits.bodyBytes} bytes` };
  }
  return undefined;
}

/**
 * Whether a WebSocket message is over `maxBytes`, measured without allocating: binary by
 * its length; text by its UTF-8 length, counted only when its UTF-16 length leaves doubt
 * (each UTF-16 unit is 1–3 UTF-8 bytes).
 */
export function messageTooBig(data: string | ArrayBuffer | ArrayBufferView, maxBytes: number): boolean {
  if (typeof data !== "string") return data.byteLength > maxBytes;
  if (data.length > maxBytes) return true;
  if (data.length * 3 <= maxBytes) return false;
  return utf8Length(data) > maxBytes;
}

/** UTF-8 length of a string, by walking its code units (a lone surrogate counts as U+FFFD: 3 bytes). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** The reason sent with close 1009 (fits the 123-byte close reason). */
export function messageTooBigReason(maxBytes: number): string {
  return `message exceeds the ${maxBytes}-byte limit`;
}
