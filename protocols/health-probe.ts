/**
 * A protocol's own health probe (POOLS `health.type: "probe"`): a request any server of
 * that protocol answers in its own words while it can take sessions, so an unchanged server
 * is checked by what it really does. The probe gets a GET-only fetch that already goes the
 * origin's way (fetch, or a raw connection with a PROXY header) and bounds its own reads.
 */

export type ProbeFetch = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** `baseUrl` is the origin's URL (scheme, host, port); `signal` aborts at the check's timeout. */
export type HealthProbe = (baseUrl: string, fetcher: ProbeFetch, signal: AbortSignal) => Promise<ProbeResult>;

/**
 * The first `maxBytes` of a body as text; the rest is cancelled, not read. A health answer
 * is short: a server that streams a long one must not hold the check.
 */
export async function readBoundedText(res: Response, maxBytes: number): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {
      // Already closed or errored: nothing left to release.
    });
  }
  const bytes = new Uint8Array(Math.min(total, maxBytes));
  let at = 0;
  for (const c of chunks) {
    const part = c.subarray(0, bytes.byteLength - at);
    bytes.set(part, at);
    at += part.byteLength;
    if (at >= bytes.byteLength) break;
  }
  return new TextDecoder().decode(bytes);
}
