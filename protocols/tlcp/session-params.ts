/**
 * TLCP session isolation (issue 16 F4): the session a request names, read the way an
 * origin will read it, and the one session id the origin is sent.
 *
 * An origin percent-decodes parameter names (Lightstreamer Server and the reference origin
 * both do; a form decoder also reads `+` as a space) and takes the first of a repeated
 * parameter. The edge used to look only for a literal `LS_session`, so a body
 * `LS%5Fsession=<victim's id>&LS_session=<own token>` was verified by the attacker's token
 * and acted on, by the origin, for the victim. Here:
 * - a parameter *names the session* if any reading of its name (as sent, percent-decoded,
 *   form-decoded; any case) is `LS_session`;
 * - a request is refused when such a name is not the literal `LS_session`, when one line
 *   names the session twice, when its lines (and query string) name different sessions,
 *   or when the value reads differently with `+` as a space;
 * - what goes to the origin carries the origin's id in every session-naming parameter,
 *   whatever the client wrote there (`pinSession`).
 */

export const SESSION_PARAM = "LS_session";

/** One `name=value` pair of a request line; `lead` is the separator before it (or ""). */
const PAIR = /(^|[&\r\n])([^&=\r\n]*)(?:=([^&\r\n]*))?/g;

function decodeOr(text: string, fallback: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return fallback;
  }
}

/** Whether any reading of `rawName` an origin might use is `LS_session` (case ignored). */
export function namesSession(rawName: string): boolean {
  const wanted = SESSION_PARAM.toLowerCase();
  const readings = [rawName, decodeOr(rawName, rawName), decodeOr(rawName.replace(/\+/g, " "), rawName)];
  // A name encoded twice is still one decode away from a second reading by a lenient origin.
  readings.push(decodeOr(readings[1] ?? rawName, rawName));
  return readings.some((r) => r.trim().toLowerCase() === wanted);
}

export type SessionNaming =
  /** `session` undefined: the request names no session. */
  | { readonly ok: true; readonly session: string | undefined }
  | { readonly ok: false; readonly message: string };

/**
 * The session named by a request's texts (its query string, its body or message lines),
 * or why the request is refused. Values are decoded as the origin decodes them.
 */
export function sessionNamed(texts: readonly string[]): SessionNaming {
  let session: string | undefined;
  for (const text of texts) {
    for (const line of text.split(/\r?\n|\r/)) {
      let namedHere = false;
      for (const match of line.matchAll(PAIR)) {
        const name = match[2] ?? "";
        if (name === "" || !namesSession(name)) continue;
        if (name !== SESSION_PARAM) return { ok: false, message: `session parameter must be written ${SESSION_PARAM}` };
        if (namedHere) return { ok: false, message: `${SESSION_PARAM} given twice in one request` };
        namedHere = true;
        const raw = match[3] ?? "";
        const value = decodeOr(raw, raw);
        // A `+` reads as itself to one origin and as a space to another; tokens have none.
        if (decodeOr(raw.replace(/\+/g, " "), raw) !== value) return { ok: false, message: `${SESSION_PARAM} value is ambiguous` };
        if (session !== undefined && session !== value) return { ok: false, message: "the request names more than one session" };
        session = value;
      }
    }
  }
  return { ok: true, session };
}

/** `text` with every session-naming parameter (any spelling) set to `LS_session=<session>`. */
export function pinSession(text: string, session: string): string {
  const encoded = encodeURIComponent(session);
  return text.replace(PAIR, (all, lead: string, name: string) => (name !== "" && namesSession(name) ? `${lead}${SESSION_PARAM}=${encoded}` : all));
}
