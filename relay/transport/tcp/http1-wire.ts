/**
 * What may go on the wire in an HTTP/1.1 request head (RFC 9110 §5.1, §5.5, §9.1;
 * RFC 9112 §3.2), and the one encoder that writes a head only from parts that passed.
 *
 * Why this exists: workerd hands header values to JavaScript as strings decoded from
 * UTF-8, so a client's bytes C4 8D arrive as U+010D. Narrowing that code point to a byte
 * (`charCodeAt & 0xff`) turned it into CR and let a client end our header line and write
 * a second request on the origin connection (request smuggling). Here nothing is narrowed:
 * - method and header names are tokens (ASCII), the target is visible ASCII;
 * - a header value is encoded as UTF-8 (the bytes the client sent), and every byte must be
 *   a field-vchar, SP or HTAB — obs-text (0x80-0xFF) included, CR, LF, NUL and the other
 *   controls never. A UTF-8 encoding of a non-ASCII code point only has bytes >= 0x80, so
 *   no code point can become a delimiter;
 * - a string that is not well-formed UTF-16 (a lone surrogate) is refused, not replaced.
 * Anything else is refused with a reason that names the part, never written.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** origin-form (RFC 9112 §3.2.1): an absolute path and optional query, visible ASCII only. */
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;
/** A lone surrogate would be replaced by U+FFFD on encoding: a different value than asked. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type RequestPart = "method" | "target" | "header name" | "header value";

/** A request head that cannot be written as asked; `part` says which piece. */
export class Http1RequestRefused extends Error {
  override readonly name = "Http1RequestRefused";
  readonly part: RequestPart;
  constructor(part: RequestPart, message: string) {
    super(message);
    this.part = part;
  }
}

const encoder = new TextEncoder();
const CRLF = new Uint8Array([0x0d, 0x0a]);

/** Whether `bytes` is a field-value: field-vchar / obs-text, with SP and HTAB only inside. */
function isFieldValue(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x09 || b === 0x20) continue;
    if (b < 0x21 || b === 0x7f) return false;
  }
  const first = bytes[0];
  const last = bytes[bytes.length - 1];
  // Leading or trailing whitespace is not part of a field value (a parser would drop it).
  return first === undefined || (first !== 0x20 && first !== 0x09 && last !== 0x20 && last !== 0x09);
}

/** The UTF-8 bytes of a header value, or why it cannot be sent. */
function valueBytes(name: string, value: string): Uint8Array {
  if (LONE_SURROGATE.test(value)) throw new Http1RequestRefused("header value", `header ${name} holds an unpaired surrogate`);
  const bytes = encoder.encode(value);
  if (!isFieldValue(bytes)) throw new Http1RequestRefused("header value", `header ${name} holds a character not allowed in a field value`);
  return bytes;
}

function checkToken(part: "method" | "header name", text: string): void {
  if (!TOKEN.test(text)) throw new Http1RequestRefused(part, `${part} ${JSON.stringify(text.slice(0, 40))} is not an HTTP token`);
}

/**
 * The bytes of `METHOD target HTTP/1.1`, the header lines and the empty line — or
 * Http1RequestRefused. Every byte written is one the checks above let through.
 */
export function encodeRequestHead(method: string, target: string, headers: Iterable<readonly [string, string]>): Uint8Array {
  checkToken("method", method);
  if (!ORIGIN_FORM.test(target)) {
    throw new Http1RequestRefused("target", "request target must be a path of visible ASCII characters");
  }
  const parts: Uint8Array[] = [encoder.encode(`${method} ${target} HTTP/1.1\r\n`)];
  for (const [name, value] of headers) {
    checkToken("header name", name);
    parts.push(encoder.encode(`${name}: `), valueBytes(name, value), CRLF);
  }
  parts.push(CRLF);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Undefined when the head can be written; otherwise the refusal (nothing is written). */
export function requestHeadProblem(method: string, target: string, headers: Iterable<readonly [string, string]>): Http1RequestRefused | undefined {
  try {
    encodeRequestHead(method, target, headers);
    return undefined;
  } catch (err) {
    if (err instanceof Http1RequestRefused) return err;
    throw err;
  }
}
