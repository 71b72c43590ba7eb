/**
 * Which edge the CLI talks to, and with which admin token: flags first, then environment
 * variables, then the local stack `npm start` runs. The dev token is only ever sent to that
 * default local edge (http://127.0.0.1:8787), so a forgotten --token never sends it anywhere else.
 */
import { usageError } from "./errors.ts";

export const DEFAULT_URL = "http://127.0.0.1:8787";
export const DEV_ADMIN_TOKEN = "dev-admin-token-local";
export const DEFAULT_POOL = "default";

export interface Connection {
  readonly url: string;
  /** Undefined when none was given and the edge is not local: requests go out without one. */
  readonly token: string | undefined;
}

export function resolveConnection(flags: { url?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv): Connection {
  const raw = flags.url ?? nonEmpty(env.PUSH_EDGE_URL) ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(`--url: ${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usageError(`--url: must be http:// or https:// (got ${url.protocol})`);
  const token = flags.token ?? nonEmpty(env.PUSH_EDGE_ADMIN_TOKEN) ?? (url.origin === DEFAULT_URL ? DEV_ADMIN_TOKEN : undefined);
  return { url: url.origin, token };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
