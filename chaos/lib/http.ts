/**
 * Small HTTP helpers for the chaos clients: a bounded request that never throws (an answer
 * or an error string), and what the clients read out of answers and tokens.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";

export type Answer = { ok: true; status: number; headers: IncomingMessage["headers"]; body: string } | { ok: false; error: string };

export function request(
  url: string,
  options: { method: string; headers?: Record<string, string>; body?: string; localAddress?: string },
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve) => {
    const from = options.localAddress === undefined ? {} : { localAddress: options.localAddress };
    const req = httpRequest(url, { method: options.method, agent: false, headers: options.headers ?? {}, ...from }, (res) => {
      void readAll(res).then(
        (body) => {
          clearTimeout(timer);
          resolve({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body });
        },
        (err: unknown) => resolve({ ok: false, error: String(err) }),
      );
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ ok: false, error: `${options.method} ${new URL(url).pathname}: no answer in ${timeoutMs} ms` });
    }, timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      resolve({ ok: false, error: err.message });
    });
    req.end(options.body);
  });
}

export function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString()));
    res.on("error", reject);
    res.on("aborted", () => resolve(Buffer.concat(chunks).toString()));
  });
}

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The session key (the Session Durable Object's name) from an affinity token's payload. */
export function sessionKeyOf(token: string): string | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { sk?: unknown };
    return typeof claims.sk === "string" ? claims.sk : undefined;
  } catch {
    return undefined;
  }
}
