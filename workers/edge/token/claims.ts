/** The claims an affinity token carries (docs/architecture.md: sk, o, iat, exp, aud; header kid). */
export interface AffinityClaims {
  /** Session key: names the session's Durable Object. */
  readonly sk: string;
  /** Id of the origin that owns the session. */
  readonly o: string;
  /** Pool the session belongs to (audience). */
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  /** Optional network binding: hash of the client's network prefix (network.ts). */
  readonly net?: string;
}

/** A fresh session key: 128 random bits, base64url, safe in paths, cookies and DO names. */
export function newSessionKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
