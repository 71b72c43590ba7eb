/**
 * TLCP request parameters: `LS_name=value` pairs joined by `&`, one request per CRLF line
 * (HTTP bodies and WebSocket messages carry several). The session id travels as
 * `LS_session`; the edge reads it and swaps it, touching nothing else in the request.
 */

const SESSION_PARAM = /(^|[&\r\n])LS_session=([^&\r\n]*)/;
const REQ_ID_PARAM = /(?:^|&)LS_reqId=([^&\r\n]*)/;

/** Decodes a parameter value defensively: a bad escape yields the raw text, never a throw. */
function decode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

/** The `LS_session` value in a query string or body, if any. */
export function findSession(text: string): string | undefined {
  const m = SESSION_PARAM.exec(text);
  return m?.[2] === undefined ? undefined : decode(m[2]);
}

/** Replaces every `LS_session` value with `session` (URL-encoded). */
export function replaceSession(text: string, session: string): string {
  const encoded = encodeURIComponent(session);
  return text.replace(new RegExp(SESSION_PARAM.source, "g"), (_all, lead: string) => `${lead}LS_session=${encoded}`);
}

/** The `LS_reqId` of each request line of a control/msg body, in order (lines without one are skipped). */
export function requestIds(body: string): string[] {
  const ids: string[] = [];
  for (const line of body.split(/\r?\n/)) {
    const m = REQ_ID_PARAM.exec(line);
    if (m?.[1] !== undefined) ids.push(decode(m[1]));
  }
  return ids;
}

/** A TLCP message field: its separators and line breaks must not appear raw. */
export function encodeField(text: string): string {
  return text.replace(/[%,\r\n|]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}
