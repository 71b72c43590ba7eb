/**
 * The messages on an isolate's control WebSocket (edge isolate ⇄ its IsolateHub object).
 * The isolate announces the legs it pumps; the hub passes the session objects' end
 * requests down. JSON text, one message per frame.
 */
import type { EndSignal } from "../../protocols/adapter.ts";

/** Isolate → hub. `hello` (after every (re)connect) replaces the hub's list of live legs. */
export type IsolateMessage =
  | { readonly t: "hello"; readonly legs: ReadonlyArray<readonly [sk: string, leg: string]> }
  | { readonly t: "open"; readonly sk: string; readonly leg: string }
  | { readonly t: "close"; readonly leg: string };

/** Hub → isolate: end these legs with the protocol's signal. */
export interface EndLegsMessage {
  readonly t: "end";
  readonly legs: readonly string[];
  readonly signal: EndSignal;
}

export function parseIsolateMessage(data: string): IsolateMessage | undefined {
  try {
    const raw = JSON.parse(data) as Record<string, unknown>;
    if (raw.t === "open" && typeof raw.sk === "string" && typeof raw.leg === "string") return { t: "open", sk: raw.sk, leg: raw.leg };
    if (raw.t === "close" && typeof raw.leg === "string") return { t: "close", leg: raw.leg };
    if (raw.t === "hello" && Array.isArray(raw.legs)) {
      const legs = raw.legs.filter((p): p is [string, string] => Array.isArray(p) && typeof p[0] === "string" && typeof p[1] === "string");
      return { t: "hello", legs };
    }
  } catch {
    // Not JSON: ignored.
  }
  return undefined;
}

export function parseEndLegs(data: string): EndLegsMessage | undefined {
  try {
    const raw = JSON.parse(data) as Partial<EndLegsMessage>;
    if (raw.t !== "end" || !Array.isArray(raw.legs) || typeof raw.signal !== "object" || raw.signal === null) return undefined;
    if (typeof raw.signal.closeCode !== "number" || typeof raw.signal.closeReason !== "string") return undefined;
    return { t: "end", legs: raw.legs.filter((l): l is string => typeof l === "string"), signal: raw.signal };
  } catch {
    return undefined;
  }
}
