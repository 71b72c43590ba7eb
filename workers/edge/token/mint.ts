/** Mints the affinity token the edge hands out when it places an S request. */
import { SignJWT } from "jose";
import type { AffinityClaims } from "./claims.ts";
import type { KeyRing } from "./keyring.ts";

export interface MintInput {
  readonly sk: string;
  readonly origin: string;
  readonly pool: string;
  readonly ttlSeconds: number;
  /** Network binding (network.ts): the hashed client network, when the edge binds tokens to it. */
  readonly net?: string;
  /** Seconds since the epoch; injectable for tests. */
  readonly now?: number;
}

export async function mintAffinityToken(keys: KeyRing, input: MintInput): Promise<{ token: string; claims: AffinityClaims }> {
  const iat = input.now ?? Math.floor(Date.now() / 1000);
  const claims: AffinityClaims = {
    sk: input.sk,
    o: input.origin,
    aud: input.pool,
    iat,
    exp: iat + input.ttlSeconds,
    ...(input.net === undefined ? {} : { net: input.net }),
  };
  const key = keys.signing;
  const token = await new SignJWT({ sk: claims.sk, o: claims.o, ...(claims.net === undefined ? {} : { net: claims.net }) })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .setAudience(claims.aud)
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .sign(await key.signKey());
  return { token, claims };
}
