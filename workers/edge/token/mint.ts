/** Mints the affinity token the edge hands out when it places an S request. */
import { SignJWT } from "jose";
import type { AffinityClaims } from "./claims.ts";
import { hmacKey } from "./imported-key.ts";
import { TOKEN_ALGORITHM, type KeyRing } from "./keyring.ts";

export interface MintInput {
  readonly sk: string;
  readonly origin: string;
  readonly pool: string;
  readonly ttlSeconds: number;
  /** Seconds since the epoch; injectable for tests. */
  readonly now?: number;
}

export async function mintAffinityToken(keys: KeyRing, input: MintInput): Promise<{ token: string; claims: AffinityClaims }> {
  const iat = input.now ?? Math.floor(Date.now() / 1000);
  const claims: AffinityClaims = { sk: input.sk, o: input.origin, aud: input.pool, iat, exp: iat + input.ttlSeconds };
  const token = await new SignJWT({ sk: claims.sk, o: claims.o })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: keys.signingKid, typ: "JWT" })
    .setAudience(claims.aud)
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .sign(await hmacKey(keys.signingKey));
  return { token, claims };
}
