/**
 * `push-edge token inspect <token>`: decodes an affinity token here (header and claims,
 * no key needed) and has the edge verify it the way a CR request would — signature by
 * kid, expiry, pool — through `POST /_edge/admin/tokens/inspect`. Exit 0 when it
 * verifies, 1 when it does not (with the reason).
 */
import { decodeJwt, decodeProtectedHeader } from "jose";
import type { InspectView } from "../client.ts";
import { GLOBAL_HELP, onePositional, type Command } from "../command.ts";
import { EXIT, usageError } from "../errors.ts";
import { clock } from "../format.ts";

export const token: Command = {
  name: "token",
  summary: "token inspect <token>: decode an affinity token and verify it at the edge",
  help: `usage: push-edge token inspect <token> [--pool NAME] [--json]

Decodes the token's header (alg, kid) and claims (sk session key, o origin, aud pool,
iat, exp) locally, then asks the edge to verify it as a CR request would: signature with
the key named by kid, expiry, and the pool (--pool, default the pool the token claims).
Exit 0 if it verifies; 1 if not, with the reason (malformed, bad_algorithm,
unknown_kid, bad_signature, expired, wrong_pool, bad_claims). The network binding is not
checked: you are not on the client's network.
--json prints {"decoded": {"header","claims"} | null, "verification": {"verified", ...}}.

${GLOBAL_HELP}`,
  options: {},
  async run(positionals, values, ctx) {
    if (positionals[0] !== "inspect") throw usageError(positionals[0] === undefined ? "missing subcommand: inspect" : `unknown subcommand ${JSON.stringify(positionals[0])}`);
    const jws = onePositional(positionals.slice(1), "<token>").trim();
    const decoded = decode(jws);
    const verification = await ctx.client.inspectToken(jws, typeof values.pool === "string" ? values.pool : undefined);
    if (ctx.json) ctx.out(JSON.stringify({ decoded, verification }, null, 2));
    else ctx.out(describe(decoded, verification));
    if (!verification.verified) ctx.note(`push-edge: token does not verify: ${verification.reason} (${verification.detail})`);
    return verification.verified ? EXIT.ok : EXIT.failed;
  },
};

type Decoded = { header: Record<string, unknown>; claims: Record<string, unknown> } | null;

function decode(jws: string): Decoded {
  try {
    return { header: decodeProtectedHeader(jws) as Record<string, unknown>, claims: decodeJwt(jws) as Record<string, unknown> };
  } catch {
    return null;
  }
}

function describe(decoded: Decoded, v: InspectView): string {
  const lines: string[] = [];
  if (decoded === null) {
    lines.push("decoded   (not a compact JWS/JWT: cannot decode)");
  } else {
    const { header, claims } = decoded;
    lines.push(`header    ${JSON.stringify(header)}`);
    lines.push(`claims    ${JSON.stringify(claims)}`);
    if (typeof claims.iat === "number") lines.push(`issued    ${clock(claims.iat * 1000)} UTC`);
    if (typeof claims.exp === "number") lines.push(`expires   ${clock(claims.exp * 1000)} UTC (${relative(claims.exp * 1000 - Date.now())})`);
  }
  lines.push(
    v.verified
      ? `verified  yes: key ${v.kid}, pool ${v.pool ?? "-"}, session ${v.session} on origin ${v.origin}`
      : `verified  NO: ${v.reason} (${v.detail})${v.pool === null ? "" : ` [pool ${v.pool}]`}`,
  );
  return lines.join("\n");
}

function relative(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
