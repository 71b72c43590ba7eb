/**
 * The messages on an isolate's control WebSocket (edge isolate ⇄ its IsolateHub object).
 * The isolate announces the legs it pumps; the hub passes the session objects' end
 * requests down. JSON text: one message per frame, or — from an isolate whose hub said it
 * takes them (`ready`) — a batch, a JSON array of isolate messages in the order they were
 * posted. A batch is one hub event and one storage transaction for all the legs that
 * opened or closed together (a burst of reconnects, a deploy), instead of one each.
 */
import type { EndSignal } from "../../protocols/adapter.ts";

/** Isolate → hub. `hello` (after every (re)connect) replaces the hub's list of live legs. */
export type IsolateMessage =
  | { readonly t: "hello"; readonly legs: ReadonlyArray<readonly [sk: string, leg: string]> }
  | { readonly t: "open"; readonly sk: string; readonly leg: string }
  | { readonly t: "close"; readonly leg: string };

/**
 * Hub → isolate, the answer to `hello`: this hub takes batches. An isolate connected to a
 * hub that never says so (one of an earlier version, during a deployment) sends every
 * message on its own.
 */
export interface HubReadyMessage {
  readonly t: "ready";
  readonly batches: true;
}

/** How many isolate messages one batch frame carries at most (a frame stays far below 1 MiB). */
export const MAX_BATCH = 256;

/** Hub → isolate: end these legs with the protocol's signal. */
export interface EndLegsMessage {
  readonly t: "end";
  readonly legs: readonly string[];
  readonly signal: EndSignal;
}

/** One frame from an isolate: its messages in order (a single message or a batch); nothing that is not one. */
export function parseIsolateMessages(data: string): IsolateMessage[] {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return [];
  }
  const items = Array.isArray(raw) ? raw : [raw];
  return items.flatMap((item) => {
    const message = isolateMessage(item);
    return message === undefined ? [] : [message];
  });
}

function isolateMessage(item: unknown): IsolateMessage | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const raw = item as Record<string, unknown>;
  if (raw.t === "open" && typeof raw.sk === "string" && typeof raw.leg === "string") return { t: "open", sk: raw.sk, leg: raw.leg };
  if (raw.t === "close" && typeof raw.leg === "string") return { t: "close", leg: raw.leg };
  if (raw.t === "hello" && Array.isArray(raw.legs)) {
    const legs = raw.legs.filter((p): p is [string, string] => Array.isArray(p) && typeof p[0] === "string" && typeof p[1] === "string");
    return { t: "hello", legs };
  }
  return undefined;
}

/**
 * Frames carrying `texts` (isolate messages, each already JSON): one per message, or — when
 * the hub takes batches — a JSON array of up to MAX_BATCH of them per frame.
 */
export function isolateFrames(texts: readonly string[], batches: boolean): string[] {
  if (!batches) return [...texts];
  const frames: string[] = [];
  for (let i = 0; i < texts.length; i += MAX_BATCH) {
    const chunk = texts.slice(i, i + MAX_BATCH);
    frames.push(chunk.length === 1 ? chunk[0]! : `[${chunk.join(",")}]`);
  }
  return frames;
}

/** Hub → isolate: what the isolate acts on (`ready`, `end`); nothing for anything else. */
export type HubMessage = HubReadyMessage | EndLegsMessage;

export function parseHubMessage(data: string): HubMessage | undefined {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  if (raw.t === "ready") return raw.batches === true ? { t: "ready", batches: true } : undefined;
  if (raw.t !== "end" || !Array.isArray(raw.legs) || typeof raw.signal !== "object" || raw.signal === null) return undefined;
  const signal = raw.signal as Partial<EndSignal>;
  if (typeof signal.closeCode !== "number" || typeof signal.closeReason !== "string") return undefined;
  return { t: "end", legs: raw.legs.filter((l): l is string => typeof l === "string"), signal: signal as EndSignal };
}
