/**
 * Everything a CR request's token must pass at the edge, in one call: the token itself
 * (verify.ts: algorithm, key, signature, expiry, pool) and, when the edge binds tokens to
 * networks, the client's network (network.ts). A token this isolate verified before is
 * not verified again while it holds (verified-tokens.ts); the network is checked every time.
 */
import type { KeyRing } from "./keyring.ts";
import { sameNetwork } from "./network.ts";
import { VerifiedTokens } from "./verified-tokens.ts";
import type { VerifyResult } from "./verify.ts";

const verifiedTokens = new VerifiedTokens();

export async function admitToken(
  keys: KeyRing,
  token: string,
  pool: string,
  request: Request,
  networkBinding: string | undefined,
): Promise<VerifyResult> {
  const verified = await verifiedTokens.verify(keys, token, pool);
  if (!verified.ok) return verified;
  if (!(await sameNetwork(networkBinding, verified.claims, request))) {
    return { ok: false, reason: "wrong_network", detail: "token was issued to a client on another network" };
  }
  return verified;
}
