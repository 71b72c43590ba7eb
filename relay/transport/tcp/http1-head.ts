/**
 * The head of an HTTP/1.1 response (RFC 9112 §4-§6): status line, header fields, and how
 * the body that follows is delimited. Strict where leniency is a known smuggling vector
 * (line folding, conflicting lengths); every refusal says why.
 */

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** In wire order; names lower-cased, repeated fields kept. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export type BodyFraming = "none" | "length" | "chunked" | "close";

export class Http1ParseError extends Error {
  override readonly name = "Http1ParseError";
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

export function fail(reason: string): never {
  throw new Http1ParseError(reason);
}

/** Parses the head's text (latin1), without its final empty line. */
export function parseHead(text: string): ResponseHead {
  const lines = text.split("\r\n");
  const statusLine = lines[0] ?? "";
  const match = STATUS_LINE.exec(statusLine);
  if (match === null) fail(`malformed status line ${JSON.stringify(statusLine.slice(0, 60))}`);
  const status = Number(match[2]);
  if (status < 100) fail(`status ${status} out of range`);
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    // obs-fold (a continuation line) is obsolete and a classic smuggling vector.
    if (line.startsWith(" ") || line.startsWith("\t")) fail("obsolete line folding in the response head");
    const colon = line.indexOf(":");
    const name = colon === -1 ? "" : line.slice(0, colon);
    if (!TOKEN.test(name)) fail(`malformed header line ${JSON.stringify(line.slice(0, 60))}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) fail(`control character in header ${name}`);
    headers.push([name.toLowerCase(), value]);
  }
  return { status, statusText: match[3] ?? "", headers };
}

/** RFC 9112 §6.3, for a response. */
export function bodyFraming(head: ResponseHead, headRequest: boolean): BodyFraming {
  if (headRequest || head.status === 101 || head.status === 204 || head.status === 304 || head.status < 200) return "none";
  const te = head.headers.filter(([n]) => n === "transfer-encoding").map(([, v]) => v);
  if (te.length > 0) {
    const codings = te.join(",").split(",").map((c) => c.trim().toLowerCase()).filter((c) => c !== "");
    // Chunked last: chunked framing. Any other final coding: the body runs to the close.
    return codings[codings.length - 1] === "chunked" ? "chunked" : "close";
  }
  return head.headers.some(([n]) => n === "content-length") ? "length" : "close";
}

export function contentLength(head: ResponseHead): number {
  const values = head.headers
    .filter(([n]) => n === "content-length")
    .flatMap(([, v]) => v.split(","))
    .map((v) => v.trim());
  const first = values[0] ?? "";
  // Differing lengths would let two parsers disagree on where the body ends: refuse.
  if (!/^[0-9]{1,15}$/.test(first) || values.some((v) => v !== first)) fail("invalid Content-Length");
  return Number(first);
}
