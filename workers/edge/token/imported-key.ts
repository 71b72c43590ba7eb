/**
 * HMAC keys imported into WebCrypto once per isolate. jose imports a raw (Uint8Array)
 * secret again on every sign and verify call; a CryptoKey passed instead is used as is.
 * The key ring is cached per isolate (runtime.ts), so its secrets are the WeakMap's keys
 * for the isolate's life, and a replaced ring's imports are collected with it.
 *
 * The imported key is cached, not the import's promise: a promise started by one request
 * and awaited by another would be resolved across request contexts, which workerd warns of.
 * Two first requests at once each import; both results are the same key.
 */
const imported = new WeakMap<Uint8Array, CryptoKey>();

/** The secret as an HMAC SHA-256 (HS256) CryptoKey that both signs and verifies. */
export function hmacKey(secret: Uint8Array): CryptoKey | Promise<CryptoKey> {
  return imported.get(secret) ?? importHmacKey(secret);
}

async function importHmacKey(secret: Uint8Array): Promise<CryptoKey> {
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  imported.set(secret, key);
  return key;
}
