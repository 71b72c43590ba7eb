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

/**
 * A header value's characters, checked as the UTF-8 bytes they become: a code point below
 * 0x80 is its own byte, every other one encodes to bytes >= 0x80 (obs-text, allowed). So
 * the controls (CR, LF, NUL, ... and DEL) are refused, SP and HTAB only inside the value.
 */
const FIELD_VALUE = /^(?:[^\x00-\x20\x7f](?:[^\x00-\x08\x0a-\x1f\x7f]*[^\x00-\x20\x7f])?)?$/;

/** Why a header value cannot be sent, if it cannot. */
function checkValue(name: string, value: string): void {
  if (LONE_SURROGATE.test(value)) throw new Http1RequestRefused("header value", `header ${name} holds an unpaired surrogate`);
  if (!FIELD_VALUE.test(value)) throw new Http1RequestRefused("header value", `header ${name} holds a character not allowed in a field value`);
}

function checkToken(part: "method" | "header name", text: string): void {
  if (!TOKEN.test(text)) throw new Http1RequestRefused(part, `${part} ${JSON.stringify(text.slice(0, 40))} is not an HTTP token`);
}

/** Throws Http1RequestRefused for the first part of the head that cannot be written. */
function checkRequestHead(method: string, target: string, headers: Iterable<readonly [string, string]>): void {
  checkToken("method", method);
  if (!ORIGIN_FORM.test(target)) {
    throw new Http1RequestRefused("target", "request target must be a path of visible ASCII characters");
  }
  for (const [name, value] of headers) {
    checkToken("header name", name);
    checkValue(name, value);
  }
}

/**
 * The bytes of `METHOD target HTTP/1.1`, the header lines and the empty line — or
 * Http1RequestRefused. Every byte written is one the checks above let through.
 */
export function encodeRequestHead(method: string, target: string, headers: Iterable<readonly [string, string]>): Uint8Array {
  const lines = [...headers];
  checkRequestHead(method, target, lines);
  const head = `${method} ${target} HTTP/1.1\r\n${lines.map(([name, value]) => `${name}: ${value}\r\n`).join("")}\r\n`;
  return encoder.encode(head);
}

/** Undefined when the head can be written; otherwise the refusal (nothing is written). */
export function requestHeadProblem(method: string, target: string, headers: Iterable<readonly [string, string]>): Http1RequestRefused | undefined {
  try {
    // Checked as written, without writing: this runs on every request, whatever the transport.
    checkRequestHead(method, target, headers);
    return undefined;
  } catch (err) {
    if (err instanceof Http1RequestRefused) return err;
    throw err;
  }
}
