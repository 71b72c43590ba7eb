// TLCP request text → parameters. A request body (HTTP) or a WebSocket message after its
// first line is one or more CRLF-separated request lines; each line is `&`-separated
// `LS_x=value` pairs, percent-encoded like a form but without `+` for space (clients
// encode with encodeURIComponent). Decoding is defensive: a bad escape makes the line
// invalid — reported to the client as REQERR/CONERR — and never throws.

export type RequestLine = {
  params: ReadonlyMap<string, string>;
  /** The first decoding problem on this line, if any (the params are then partial). */
  error: string | undefined;
  /** LS_reqId as sent, when it could be read even from a line with other problems. */
  reqId: string | undefined;
};

/** Non-empty lines, CRLF or bare LF (lenient with hand-written requests). */
export function splitRequestLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line !== "");
}

export function parseRequestLine(line: string): RequestLine {
  const params = new Map<string, string>();
  let error: string | undefined;
  for (const pair of line.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? "" : pair.slice(eq + 1);
    const key = decode(rawKey);
    const value = decode(rawValue);
    if (key === undefined || value === undefined) {
      error ??= `bad percent-encoding in ${JSON.stringify(pair.length > 64 ? `${pair.slice(0, 64)}...` : pair)}`;
      continue;
    }
    // First occurrence wins: a repeated parameter cannot override what was checked.
    if (!params.has(key)) params.set(key, value);
  }
  return { params, error, reqId: params.get("LS_reqId") };
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Typed reads of one request's parameters; failures name the parameter. */
export type ParamResult<T> = { ok: true; value: T } | { ok: false; message: string };

export function intParam(
  params: ReadonlyMap<string, string>,
  name: string,
  options: { min?: number; max?: number } = {},
): ParamResult<number | undefined> {
  const text = params.get(name);
  if (text === undefined) return { ok: true, value: undefined };
  if (!/^\d{1,15}$/.test(text)) return { ok: false, message: `${name} must be a non-negative integer, got ${JSON.stringify(text)}` };
  const value = Number(text);
  if (options.min !== undefined && value < options.min) return { ok: false, message: `${name} must be >= ${options.min}` };
  if (options.max !== undefined && value > options.max) return { ok: false, message: `${name} must be <= ${options.max}` };
  return { ok: true, value };
}

export function boolParam(params: ReadonlyMap<string, string>, name: string, fallback: boolean): ParamResult<boolean> {
  const text = params.get(name);
  if (text === undefined) return { ok: true, value: fallback };
  if (text === "true") return { ok: true, value: true };
  if (text === "false") return { ok: true, value: false };
  return { ok: false, message: `${name} must be true or false, got ${JSON.stringify(text)}` };
}

/** LS_reqId is echoed verbatim in REQOK/REQERR, so it must not break a line: clients send
 * integers; letters, digits, `.`, `_` and `-` are accepted too. */
export function isValidReqId(reqId: string | undefined): reqId is string {
  return reqId !== undefined && /^[A-Za-z0-9._-]{1,64}$/.test(reqId);
}
