// The edge with `tcp`-transport origins that require a PROXY header, and clients that
// reach the edge from a loopback address other than 127.0.0.1: the edge sees that address
// (CF-Connecting-IP), the origin's TCP peer is the edge (127.0.0.1), so when an origin
// reports the client's address it can only have learnt it from the PROXY header.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningStack } from "../../../infra/local/stack.ts";
import { testStack } from "./stack.ts";
import { httpJson, openSse, openWebSocket, type JsonResponse, type WsClient } from "./http-clients.ts";

/** Where test clients connect from (any 127/8 address is loopback on Linux). */
export const CLIENT_ADDRESS = "127.0.0.5";
export const AUTH_KID = "pp-test";
export const AUTH_KEYS = { [AUTH_KID]: Buffer.alloc(32, 7).toString("base64url") };

export interface ProxyStack {
  readonly stack: RunningStack;
  readonly edgeUrl: string;
  /** The origins' admin listeners (no PROXY): for /_debug/requests. */
  readonly inspectUrls: readonly string[];
  close(): Promise<void>;
}

export interface ProxyStackOptions {
  readonly version: 1 | 2;
  /** Sign headers (edge) and require signatures (origin). */
  readonly auth?: boolean;
  readonly originCount?: number;
  readonly originArgs?: readonly string[];
  /** The edge's PROXY_AUTH_KEYS, when it should differ from the origins' key file. */
  readonly edgeKeys?: Record<string, string>;
  /** The pool's settings (config/pool-settings.ts). */
  readonly poolSettings?: Record<string, unknown>;
}

export async function proxyStack(options: ProxyStackOptions): Promise<ProxyStack> {
  const dir = await mkdtemp(join(tmpdir(), "push-edge-proxy-"));
  const keyFile = join(dir, "proxy-auth-keys.json");
  await writeFile(keyFile, JSON.stringify(AUTH_KEYS));
  const auth = options.auth === true;
  const stack = await testStack({
    originCount: options.originCount ?? 1,
    originArgs: [
      "--proxy",
      "require",
      ...(auth ? ["--proxy-auth-keys-file", keyFile] : []),
      ...(options.originArgs ?? []),
    ],
    originTransport: { transport: "tcp", proxy: { version: options.version, ...(auth ? { authKid: AUTH_KID } : {}) } },
    vars: { PROXY_AUTH_KEYS: JSON.stringify(options.edgeKeys ?? AUTH_KEYS) },
    ...(options.poolSettings === undefined ? {} : { poolSettings: options.poolSettings }),
  }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    stack,
    edgeUrl: stack.edgeUrl,
    inspectUrls: stack.processes.map((p) => p.adminUrl ?? ""),
    async close() {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface LoggedProxyRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly client: string;
  readonly via: string;
  readonly peer: string;
  readonly proxy?: { version: number; command: string; uniqueId?: string; tlvTypes: number[]; authKid?: string };
}

export async function loggedRequests(inspectUrl: string): Promise<LoggedProxyRequest[]> {
  const res = await fetch(`${inspectUrl}/_debug/requests`);
  return (await res.json()) as LoggedProxyRequest[];
}

/** The session key (`sk`) an affinity token names: the PROXY header's unique id. */
export function sessionKeyOf(token: string): string {
  const payload = token.split(".")[1] ?? "";
  return (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { sk: string }).sk;
}

export type Answer = JsonResponse;

/** An HTTP request from the test client's own address (CLIENT_ADDRESS). */
export function fromClient(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return httpJson(url, {
    ...(options.method === undefined ? {} : { method: options.method }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.body === undefined ? {} : { rawBody: options.body }),
    localAddress: CLIENT_ADDRESS,
  });
}

export interface SseFromClient {
  readonly headers: IncomingHttpHeaders;
  /** The next event's data (comments skipped). */
  next(): Promise<string>;
  close(): void;
}

/** An SSE stream opened from CLIENT_ADDRESS. */
export async function sseFromClient(url: string, headers: Record<string, string>): Promise<SseFromClient> {
  const sse = await openSse(url, headers, { localAddress: CLIENT_ADDRESS });
  return { headers: sse.headers, next: async () => (await sse.next(`an SSE event from ${url}`)).data, close: () => sse.close() };
}

/** A WebSocket opened from CLIENT_ADDRESS. */
export function wsFromClient(url: string, headers: Record<string, string>): Promise<WsClient> {
  return openWebSocket(url, headers, { localAddress: CLIENT_ADDRESS });
}
