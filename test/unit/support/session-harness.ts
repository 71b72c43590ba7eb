/**
 * Drives a session object the way the edge does (routed requests) against a fake origin
 * (the session object runs in the test's isolate, so it sees a spied globalThis.fetch),
 * and watches the client's side of relayed WebSockets and streams with bounded waits.
 */
import { runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import { ROUTE_HEADER, encodeRoute, type CreateRoute, type RelayRoute, type Route } from "../../../durable-objects/session/route.ts";
import { within } from "./memory-pipe.ts";

export const ORIGIN = { id: "o2", url: "http://origin-two.test:8080" };

export function routed(path: string, route: Route, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  headers.set(ROUTE_HEADER, encodeRoute(route));
  return new Request(`https://push.example.com${path}`, { ...init, headers });
}

export function createRoute(sk: string, adapter: string, extra: Partial<CreateRoute> = {}): CreateRoute {
  return {
    op: "create",
    sk,
    pool: "default",
    adapter,
    origin: ORIGIN,
    expiresAt: Date.now() + 3_600_000,
    token: `token-of-${sk}`,
    announce: false,
    ...extra,
  };
}

export function relayRoute(sk: string, pool = "default"): RelayRoute {
  return { op: "relay", sk, pool, origin: ORIGIN.id, token: `token-of-${sk}` };
}

export const upgrade = { headers: { upgrade: "websocket" } };

/** Replaces the origin's behaviour (and its call record) for what follows. */
export function fakeOrigin(respond: (req: Request) => Response | Promise<Response>) {
  const spy = vi.spyOn(globalThis, "fetch");
  spy.mockClear();
  return spy.mockImplementation(async (input, init) => respond(new Request(input, init)));
}

/**
 * The origin's side of a relayed WebSocket. It is made inside the session object (by the
 * fake origin's `respond`), since I/O objects belong to the object that made them; the
 * test acts on it through `runInDurableObject` and reads what happened as plain data.
 */
export class FakeOriginSocket {
  #socket: WebSocket | undefined;
  /** The close the origin received, once it did. */
  closed: { code: number; reason: string } | undefined;
  readonly received: string[] = [];

  /** Call inside the fake origin: the 101 the session object receives. */
  respond(): Response {
    const pair = new WebSocketPair();
    const socket = pair[1];
    socket.accept();
    socket.addEventListener("message", (event) => this.received.push(String(event.data)));
    socket.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
    this.#socket = socket;
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** Sends from the origin (runs in the session object's context). */
  async send(stub: DurableObjectStub, text: string): Promise<void> {
    await runInDurableObject(stub, () => this.#socket?.send(text));
  }
}

/** The origin's side of a streamed response (no length), made and written like FakeOriginSocket. */
export class FakeOriginStream {
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  cancelled = false;

  /** Call inside the fake origin; `first` is written before the response is returned. */
  respond(first?: string): Response {
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c;
        if (first !== undefined) c.enqueue(new TextEncoder().encode(first));
      },
      cancel: () => {
        this.cancelled = true;
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "text/plain" } });
  }

  async write(stub: DurableObjectStub, text: string): Promise<void> {
    await runInDurableObject(stub, () => this.#controller?.enqueue(new TextEncoder().encode(text)));
  }
}

/** Waits (bounded) until `check` returns a value other than undefined. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  return within(
    (async () => {
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })(),
    what,
  );
}

/** The client's end of a relayed WebSocket: messages in order, and its close. */
export interface ClientSocket {
  next(what: string): Promise<string>;
  closed: Promise<CloseEvent>;
  socket: WebSocket;
}

export function clientSocket(response: Response): ClientSocket {
  const socket = response.webSocket;
  if (socket === null) throw new Error(`expected a WebSocket, got ${response.status}`);
  socket.accept();
  const messages: string[] = [];
  const waiters: Array<() => void> = [];
  socket.addEventListener("message", (event) => {
    messages.push(typeof event.data === "string" ? event.data : "<binary>");
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
  const next = async (what: string): Promise<string> =>
    within(
      (async () => {
        for (;;) {
          const m = messages.shift();
          if (m !== undefined) return m;
          await new Promise<void>((resolve) => waiters.push(resolve));
        }
      })(),
      what,
    );
  return { next, closed: within(closed, "the client WebSocket's close"), socket };
}

/** Reads a streamed body to its end (bounded), as text. */
export async function readToEnd(body: ReadableStream<Uint8Array> | null, what: string): Promise<string> {
  if (body === null) return "";
  return within(new Response(body).text(), what);
}

/** Reads one chunk of a streamed body (bounded), as text. */
export async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>, what: string): Promise<string | undefined> {
  const chunk = await within(reader.read(), what);
  return chunk.done ? undefined : new TextDecoder().decode(chunk.value);
}
