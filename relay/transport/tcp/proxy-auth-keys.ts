/**
 * PROXY_AUTH_KEYS: the secret key ring for the PROXY header authentication TLV, JSON
 * `{"<kid>": "<base64url secret, >= 32 bytes>", ...}` (same shape as AFFINITY_KEYS, but
 * separate keys: an origin that can verify PROXY headers must not be able to mint
 * affinity tokens). Each `tcp` origin names the kid that signs its headers.
 *
 * Parsing is a value, not an exception: the edge turns a failure into a ConfigError that
 * names the field; the session object into an origin_unreachable with the reason.
 */

export const MIN_PROXY_KEY_BYTES = 32;

export type ProxyKeysResult =
  | { readonly ok: true; readonly keys: ReadonlyMap<string, Uint8Array> }
  | { readonly ok: false; readonly field: string; readonly message: string };

export function parseProxyAuthKeys(raw: string | undefined): ProxyKeysResult {
  if (raw === undefined || raw.trim() === "") return { ok: true, keys: new Map() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, field: "PROXY_AUTH_KEYS", message: "is not valid JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, field: "PROXY_AUTH_KEYS", message: 'must be a JSON object {"<kid>": "<base64url secret>"}' };
  }
  const keys = new Map<string, Uint8Array>();
  for (const [kid, secret] of Object.entries(parsed)) {
    const field = `PROXY_AUTH_KEYS.${kid}`;
    if (typeof secret !== "string") return { ok: false, field, message: "must be a base64url string" };
    const bytes = decodeBase64url(secret);
    if (bytes === undefined) return { ok: false, field, message: "is not base64url" };
    if (bytes.length < MIN_PROXY_KEY_BYTES) {
      return { ok: false, field, message: `must decode to at least ${MIN_PROXY_KEY_BYTES} bytes` };
    }
    keys.set(kid, bytes);
  }
  return { ok: true, keys };
}

function decodeBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return undefined;
  const b64 = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  try {
    const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

const imported = new Map<string, { raw: string; key: Promise<CryptoKey> }>();

/**
 * The HMAC key for `kid`, imported once per isolate. Undefined when the ring has no such
 * kid (a key removed while sessions signed with it still run: they cannot reach their
 * origin until the key is back, which the relay reports).
 */
export function proxyAuthKey(rawKeys: string | undefined, kid: string): Promise<CryptoKey> | undefined {
  const cached = imported.get(kid);
  if (cached !== undefined && cached.raw === rawKeys) return cached.key;
  const parsed = parseProxyAuthKeys(rawKeys);
  if (!parsed.ok) return undefined;
  const bytes = parsed.keys.get(kid);
  if (bytes === undefined) return undefined;
  const key = crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  imported.set(kid, { raw: rawKeys ?? "", key });
  return key;
}
