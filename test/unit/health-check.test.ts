/**
 * Each kind of active health check (durable-objects/pool/health-check.ts), against fake
 * origins: a fetch that answers as told, a connector that accepts or refuses. The tcp
 * connector against a real closed port is in health-check-connect.test.ts.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_HEALTH_SETTINGS, type HealthSettings } from "../../config/health-settings.ts";
import type { HealthFetch, OriginAccess } from "../../durable-objects/pool/checks/origin-access.ts";
import { checkHealth, REPROBE_JSON_MS, type AutoMemory } from "../../durable-objects/pool/health-check.ts";

const URL_ = "http://o1.test:8080";

/** A fetch whose answer to each path is `status` and `body` (body undefined: headers, then nothing until aborted). */
function answering(routes: Record<string, { status: number; body?: string } | "hang" | "refuse">, seen: string[] = []): HealthFetch {
  return async (url, init) => {
    const path = url.slice(URL_.length);
    seen.push(path);
    const route = routes[path] ?? "hang";
    if (route === "refuse") throw new Error("Network connection lost.");
    if (route === "hang") {
      // A Socket.IO server leaves any other path unanswered: only the check's timeout ends it.
      return new Promise<Response>((_, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason), { once: true }));
    }
    const body = route.body;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (body !== undefined) {
          controller.enqueue(new TextEncoder().encode(body));
          controller.close();
          return;
        }
        init.signal.addEventListener("abort", () => controller.error(init.signal.reason));
      },
    });
    return new Response(stream, { status: route.status });
  };
}

function access(fetcher: HealthFetch, listening = true): OriginAccess {
  return {
    fetch: fetcher,
    connect: async () => {
      if (!listening) throw new Error("connect to o1.test:8080 failed: Connection refused");
    },
  };
}

function settings(over: Partial<HealthSettings>): HealthSettings {
  return { ...DEFAULT_HEALTH_SETTINGS, timeoutMs: 100, ...over };
}

const memory = (): AutoMemory => ({ json: undefined, askedAt: 0 });

function run(h: HealthSettings, a: OriginAccess, m: AutoMemory = memory(), now = 1_000_000) {
  return checkHealth({ url: URL_, settings: h, access: a, memory: m, now });
}

describe("http check", () => {
  const lightstreamer = settings({ type: "http", path: "/lightstreamer/healthcheck", expectBody: "OK" });

  it("passes a plain-text 200 that contains the expected body (Lightstreamer style)", async () => {
    const report = await run(lightstreamer, access(answering({ "/lightstreamer/healthcheck": { status: 200, body: "OK\r\n" } })));
    expect(report).toMatchObject({ ok: true, state: "active" });
  });

  it("fails a 503 and says which status it expected", async () => {
    const report = await run(lightstreamer, access(answering({ "/lightstreamer/healthcheck": { status: 503, body: "OK" } })));
    expect(report).toEqual({ ok: false, error: "GET /lightstreamer/healthcheck answered 503, expected 200-399" });
  });

  it("fails a 200 whose body lacks the expected text, quoting what it got", async () => {
    const report = await run(lightstreamer, access(answering({ "/lightstreamer/healthcheck": { status: 200, body: "STARTING" } })));
    expect(report).toEqual({ ok: false, error: 'GET /lightstreamer/healthcheck answered 200 but its body does not contain "OK" (it begins "STARTING")' });
  });

  it("accepts a configured set of statuses and ranges", async () => {
    const h = settings({ type: "http", path: "/", expectStatus: [{ min: 404, max: 404 }, { min: 200, max: 299 }] });
    expect(await run(h, access(answering({ "/": { status: 404, body: "" } })))).toMatchObject({ ok: true });
    expect(await run(h, access(answering({ "/": { status: 302, body: "" } })))).toEqual({ ok: false, error: "GET / answered 302, expected 404, 200-299" });
  });

  it("still reads push-edge's JSON report when the body is one", async () => {
    const h = settings({ type: "http" });
    const report = await run(h, access(answering({ "/health": { status: 200, body: '{"state":"draining","sessions":3,"capacity":10,"instance":"r1"}' } })));
    expect(report).toMatchObject({ ok: true, state: "draining", sessions: 3, capacity: 10, instance: "r1" });
  });

  it("says the server may not serve /health when GET /health times out", async () => {
    const report = await run(settings({ type: "http", timeoutMs: 60 }), access(answering({})));
    expect(report).toEqual({ ok: false, error: "GET /health timed out after 60 ms — the server may not serve /health; set health.type" });
  });

  it("says the body never came, not that the origin answered 200, when the body times out", async () => {
    const report = await run(settings({ type: "http", timeoutMs: 50 }), access(answering({ "/health": { status: 200 } })));
    expect(report).toEqual({ ok: false, error: "GET /health answered 200 but its body did not arrive within 50 ms" });
  });

  it("names a refused connection and what to check", async () => {
    const report = await run(settings({ type: "http" }), access(answering({ "/health": "refuse" })));
    expect(report).toEqual({ ok: false, error: `GET /health failed: Network connection lost. — is the server running and listening at ${URL_}?` });
  });
});

describe("tcp check", () => {
  it("passes when the origin accepts a connection, whatever it serves", async () => {
    expect(await run(settings({ type: "tcp" }), access(answering({})))).toMatchObject({ ok: true, state: "active" });
  });

  it("fails a refused connection with the cause and what to check", async () => {
    const report = await run(settings({ type: "tcp" }), access(answering({}), false));
    expect(report).toEqual({ ok: false, error: "TCP connect to o1.test:8080 failed (Connection refused) — is the server running and listening on that port?" });
  });
});

describe("probe check", () => {
  const engineIo = settings({ type: "probe", protocol: "engine.io" });
  const handshake = "/socket.io/?EIO=4&transport=polling";

  it("passes an Engine.IO server that answers the handshake with an open packet", async () => {
    const open = '0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';
    expect(await run(engineIo, access(answering({ [handshake]: { status: 200, body: open } })))).toMatchObject({ ok: true });
  });

  it("fails a server that answers the handshake path with something else", async () => {
    const report = await run(engineIo, access(answering({ [handshake]: { status: 200, body: "<html>hello</html>" } })));
    expect(report).toMatchObject({ ok: false });
    expect(report.ok ? "" : report.error).toContain("without an open packet");
  });

  it("fails a 404 and says where it looked", async () => {
    const report = await run(engineIo, access(answering({ [handshake]: { status: 404, body: "" } })));
    expect(report.ok ? "" : report.error).toContain("answered 404, expected 200 with an open packet — is Socket.IO served at /socket.io/?");
  });

  it("says the probe timed out when nothing answers", async () => {
    const report = await run(settings({ type: "probe", protocol: "engine.io", timeoutMs: 60 }), access(answering({})));
    expect(report.ok ? "" : report.error).toContain("engine.io probe timed out after 60 ms");
  });
});

describe("none", () => {
  it("passes without contacting the origin: passive only", async () => {
    const seen: string[] = [];
    const report = await run(settings({ type: "none" }), access(answering({}, seen), false));
    expect(report).toMatchObject({ ok: true });
    expect(seen).toEqual([]);
  });
});

describe("auto (the default)", () => {
  it("passes an unchanged server that never answers /health, by its TCP connect, and stops asking", async () => {
    const seen: string[] = [];
    const m = memory();
    const h = settings({ timeoutMs: 50 });
    const first = await run(h, access(answering({}, seen)), m, 1_000_000);
    expect(first).toMatchObject({ ok: true, state: "active" });
    expect(first.ok && first.note).toContain("no push-edge JSON report at /health");
    // The next rounds do not leave a request hanging on it; after REPROBE_JSON_MS it asks again.
    await run(h, access(answering({}, seen)), m, 1_000_000 + 2_000);
    expect(seen).toEqual(["/health"]);
    await run(h, access(answering({}, seen)), m, 1_000_000 + REPROBE_JSON_MS);
    expect(seen).toEqual(["/health", "/health"]);
  });

  it("passes a server that answers /health with a 404", async () => {
    expect(await run(settings({}), access(answering({ "/health": { status: 404, body: "Not Found" } })))).toMatchObject({ ok: true });
  });

  it("fails a server that does not accept connections", async () => {
    const report = await run(settings({}), access(answering({ "/health": "refuse" }), false));
    expect(report).toMatchObject({ ok: false });
    expect(report.ok ? "" : report.error).toContain("TCP connect to o1.test:8080 failed");
  });

  it("reads push-edge's JSON report where served, and holds the origin to it", async () => {
    const m = memory();
    const rich = await run(settings({}), access(answering({ "/health": { status: 200, body: '{"state":"blocked","sessions":7}' } })), m);
    expect(rich).toMatchObject({ ok: true, state: "blocked", sessions: 7 });
    // It served the report: a /health that fails now is a failure, though TCP still connects.
    const failing = await run(settings({}), access(answering({ "/health": { status: 500, body: "" } })), m, 1_002_000);
    expect(failing).toEqual({ ok: false, error: "GET /health answered 500 (it served push-edge's JSON report before)" });
  });
});
