// TLCP server notifications: the line formats and the field encoding of updates.
//
// Update values (`U,<subId>,<item>,<v1>|<v2>|...`), as the clients decode them:
//   ""  (nothing between separators)  the field is unchanged since the previous update
//   "#"                                the field is null
//   "$"                                the field is the empty string
//   anything else                      the value, percent-decoded (UTF-8)
// so the encoder percent-escapes `%`, `|`, CR, LF and other control characters anywhere,
// and `#`, `$`, `^` when they open a value (`^` starts the clients' compression forms).
// Free-text arguments of other notifications (END/CONERR/REQERR messages, MSGDONE
// responses) are split on commas by the clients, so commas are escaped there too.

/** Marks a field that did not change since the subscription's previous update. */
export const UNCHANGED: unique symbol = Symbol("unchanged");
export type FieldValue = string | null | typeof UNCHANGED;

export const LINE_END = "\r\n";

export function encodeFieldValue(value: FieldValue): string {
  if (value === UNCHANGED) return "";
  if (value === null) return "#";
  if (value === "") return "$";
  const escaped = escape(value, /[%|\u0000-\u001f\u007f]/g);
  const first = escaped.charAt(0);
  return first === "#" || first === "$" || first === "^" ? `%${hex(first)}${escaped.slice(1)}` : escaped;
}

/** Message text for END, CONERR, REQERR, ERROR and MSGDONE/MSGFAIL. */
export function encodeText(text: string): string {
  return escape(text, /[%,|\u0000-\u001f\u007f]/g);
}

function escape(text: string, pattern: RegExp): string {
  return text.replace(pattern, (char) => `%${hex(char)}`);
}

function hex(char: string): string {
  return char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
}

// --- session notifications -------------------------------------------------------------

/** `*` as control link: the client keeps using the address it already knows. */
export function conok(sessionId: string, requestLimit: number, keepAliveOrIdleMs: number): string {
  return `CONOK,${sessionId},${requestLimit},${keepAliveOrIdleMs},*`;
}

export function conerr(code: number, message: string): string {
  return `CONERR,${code},${encodeText(message)}`;
}

export function end(code: number, message: string): string {
  return `END,${code},${encodeText(message)}`;
}

export function error(code: number, message: string): string {
  return `ERROR,${code},${encodeText(message)}`;
}

export function loop(expectedDelayMs: number): string {
  return `LOOP,${expectedDelayMs}`;
}

// --- request answers -------------------------------------------------------------------

export function reqok(reqId: string | undefined): string {
  return reqId === undefined ? "REQOK" : `REQOK,${reqId}`;
}

export function reqerr(reqId: string, code: number, message: string): string {
  return `REQERR,${reqId},${code},${encodeText(message)}`;
}

// --- data notifications (numbered by the session's progressive counter) ----------------

export function update(subId: number, itemIndex: number, values: readonly FieldValue[]): string {
  return `U,${subId},${itemIndex},${values.map(encodeFieldValue).join("|")}`;
}

export function subok(subId: number, itemCount: number, fieldCount: number): string {
  return `SUBOK,${subId},${itemCount},${fieldCount}`;
}

export function unsub(subId: number): string {
  return `UNSUB,${subId}`;
}

export function endOfSnapshot(subId: number, itemIndex: number): string {
  return `EOS,${subId},${itemIndex}`;
}

/** `*` names the default sequence (UNORDERED_MESSAGES), as the clients expect. */
export function msgdone(sequence: string, prog: number, response: string): string {
  return `MSGDONE,${sequenceName(sequence)},${prog},${encodeText(response)}`;
}

export function msgfail(sequence: string, prog: number, code: number, message: string): string {
  return `MSGFAIL,${sequenceName(sequence)},${prog},${code},${encodeText(message)}`;
}

function sequenceName(sequence: string): string {
  return sequence === "UNORDERED_MESSAGES" ? "*" : sequence;
}
