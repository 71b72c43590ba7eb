/**
 * Finds a session from whatever the user has at hand: its session key (the token's `sk`),
 * the id its origin gave it (`X-Session-Id`, a Lightstreamer session id, an Engine.IO
 * sid — as the origin's own logs show it), or a whole affinity token. Says which it was.
 */
import { decodeJwt } from "jose";
import type { AdminClient, SessionView } from "./client.ts";
import { CliError, EXIT } from "./errors.ts";

export type MatchedBy = "token" | "session_key" | "origin_session_id";

export const MATCHED_WORDS: Record<MatchedBy, string> = {
  token: "the token's session key (sk claim)",
  session_key: "session key",
  origin_session_id: "origin session id (X-Session-Id)",
};

export interface Found {
  readonly view: SessionView;
  readonly matchedBy: MatchedBy;
}

/** The `sk` of a compact JWS, decoded here without a key (the edge answers for the session itself). */
function tokenSessionKey(text: string): string | undefined {
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(text)) return undefined;
  try {
    const sk = decodeJwt(text).sk;
    return typeof sk === "string" && sk !== "" ? sk : undefined;
  } catch {
    return undefined;
  }
}

/** The one live session with this origin session id, or a CliError saying there is none or several. */
export async function byOriginSessionId(client: AdminClient, id: string, notFound: string): Promise<Found> {
  const { sessions } = await client.sessionsByOriginId(id);
  const [only, ...more] = sessions;
  if (only === undefined) throw new CliError(EXIT.failed, "session_not_found", notFound);
  if (more.length > 0) {
    const which = sessions.map((x) => `${x.sk} (pool ${x.pool}, origin ${x.origin})`).join(", ");
    throw new CliError(EXIT.failed, "ambiguous", `several sessions have origin session id ${id}: ${which}`);
  }
  return { view: await client.session(only.sk), matchedBy: "origin_session_id" };
}

export async function findSession(client: AdminClient, what: string): Promise<Found> {
  const sk = tokenSessionKey(what);
  if (sk !== undefined) return { view: await client.session(sk), matchedBy: "token" };
  try {
    return { view: await client.session(what), matchedBy: "session_key" };
  } catch (err) {
    if (!(err instanceof CliError) || err.code !== "session_not_found") throw err;
  }
  return byOriginSessionId(client, what, `no session with key ${what}, and no live session has origin session id ${what}`);
}
