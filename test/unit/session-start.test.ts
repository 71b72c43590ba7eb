/**
 * What opens a session: each protocol's S requests, the generic protocol's pool rules,
 * and the settings' errors (each names its field). The client network of the S budget.
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/config.ts";
import { resolvePoolSettings } from "../../config/pool-settings.ts";
import { resolveSessionStart, type SessionStart } from "../../config/session-start.ts";
import { adapterFor } from "../../protocols/registry.ts";
import { clientNetwork } from "../../workers/edge/balance/network-budget.ts";

async function kind(method: string, path: string, options: { upgrade?: boolean; body?: string; rules?: SessionStart } = {}): Promise<string> {
  const url = new URL(`https://push.example.com${path}`);
  const request = new Request(url, {
    method,
    headers: options.upgrade === true ? { upgrade: "websocket" } : {},
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  return (await adapterFor(url).classify(request, url, undefined, options.rules)).kind;
}

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.field;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("generic protocol: the pool's rules", () => {
  it("by default opens sessions for POST /session and WebSocket upgrades only", async () => {
    expect(await kind("POST", "/session")).toBe("S");
    expect(await kind("GET", "/ws", { upgrade: true })).toBe("S");
    for (const path of ["/favicon.ico", "/robots.txt", "/", "/.env", "/session/abc", "/wp-login.php"]) {
      expect(await kind("GET", path)).toBe("no-session");
    }
    expect(await kind("PUT", "/session")).toBe("no-session");
  });

  it("follows configured methods and path patterns (* within a segment, ** across)", async () => {
    const rules = resolveSessionStart(
      { requests: [{ methods: ["get"], path: "/stream" }, { path: "/rooms/*/join" }, { methods: ["POST"], path: "/api/**" }], anyWebSocket: false },
      "f",
    );
    expect(await kind("GET", "/stream", { rules })).toBe("S");
    expect(await kind("POST", "/stream", { rules })).toBe("no-session");
    expect(await kind("DELETE", "/rooms/r1/join", { rules })).toBe("S");
    expect(await kind("GET", "/rooms/r1/r2/join", { rules })).toBe("no-session");
    expect(await kind("POST", "/api/v1/sessions/new", { rules })).toBe("S");
    expect(await kind("GET", "/ws", { upgrade: true, rules })).toBe("no-session");
    // A dot in a pattern is a dot, not "any character".
    const dotted = resolveSessionStart({ requests: [{ path: "/a.b" }] }, "f");
    expect(await kind("GET", "/a.b", { rules: dotted })).toBe("S");
    expect(await kind("GET", "/axb", { rules: dotted })).toBe("no-session");
  });

  it("names the bad field", () => {
    const f = "POOLS.pools[0].settings.sessionStart";
    expect(fieldOf(() => resolveSessionStart({ unmatched: "drop" }, f))).toBe(`${f}.unmatched`);
    expect(fieldOf(() => resolveSessionStart({ anyWebSocket: "yes" }, f))).toBe(`${f}.anyWebSocket`);
    expect(fieldOf(() => resolveSessionStart({ requests: {} }, f))).toBe(`${f}.requests`);
    expect(fieldOf(() => resolveSessionStart({ requests: [{ path: "session" }] }, f))).toBe(`${f}.requests[0].path`);
    expect(fieldOf(() => resolveSessionStart({ requests: [{ path: "/s", methods: ["P OST"] }] }, f))).toBe(`${f}.requests[0].methods[0]`);
    expect(fieldOf(() => resolveSessionStart({ requests: [{ path: "/s", verb: "POST" }] }, f))).toBe(`${f}.requests[0].verb`);
    expect(fieldOf(() => resolveSessionStart({ other: 1 }, f))).toBe(`${f}.other`);
  });
});

describe("protocols that know their own S requests", () => {
  it("Engine.IO: only a handshake (GET with EIO and a transport, no sid) opens a session", async () => {
    expect(await kind("GET", "/socket.io/?EIO=4&transport=polling")).toBe("S");
    expect(await kind("GET", "/socket.io/?EIO=4&transport=websocket", { upgrade: true })).toBe("S");
    expect(await kind("GET", "/socket.io/?EIO=4&transport=polling&sid=t")).toBe("CR");
    expect(await kind("GET", "/socket.io/socket.io.js")).toBe("no-session");
    expect(await kind("POST", "/socket.io/?EIO=4&transport=polling", { body: "x" })).toBe("no-session");
    expect(await kind("GET", "/socket.io/?transport=polling")).toBe("no-session");
    expect(await kind("GET", "/socket.io/?EIO=4&transport=websocket")).toBe("no-session");
  });

  it("TLCP: only create_session opens a session; preflights and unknown paths open none", async () => {
    expect(await kind("POST", "/lightstreamer/create_session.txt?LS_protocol=TLCP-2.5.0", { body: "LS_cid=x" })).toBe("S");
    expect(await kind("OPTIONS", "/lightstreamer/create_session.txt")).toBe("no-session");
    expect(await kind("OPTIONS", "/lightstreamer/bind_session.txt")).toBe("no-session");
    expect(await kind("GET", "/lightstreamer/anything")).toBe("no-session");
    expect(await kind("GET", "/lightstreamer")).toBe("no-session");
    expect(await kind("GET", "/lightstreamer", { upgrade: true })).toBe("first-message");
  });
});

describe("session lifetime and network budget settings", () => {
  it("default to 24 h retention, 5 min idle, 600 S per 10 s per /24 or /48", () => {
    const s = resolvePoolSettings(undefined, "p");
    expect(s.sessionLifetime).toEqual({ retentionSeconds: 86_400, idleSeconds: 300 });
    expect(s.networkBudget).toEqual({ sessions: 600, ipv4Prefix: 24, ipv6Prefix: 48 });
    expect(s.sessionStart.unmatched).toBe("pass");
  });

  it("name the bad field", () => {
    const f = "POOLS.pools[1].settings";
    expect(fieldOf(() => resolvePoolSettings({ sessionLifetime: { retentionSeconds: -1 } }, f))).toBe(`${f}.sessionLifetime.retentionSeconds`);
    expect(fieldOf(() => resolvePoolSettings({ sessionLifetime: { idleSeconds: 1.5 } }, f))).toBe(`${f}.sessionLifetime.idleSeconds`);
    expect(fieldOf(() => resolvePoolSettings({ sessionLifetime: { keep: 1 } }, f))).toBe(`${f}.sessionLifetime.keep`);
    expect(fieldOf(() => resolvePoolSettings({ networkBudget: { sessions: 10_001 } }, f))).toBe(`${f}.networkBudget.sessions`);
    expect(fieldOf(() => resolvePoolSettings({ networkBudget: { ipv4Prefix: 33 } }, f))).toBe(`${f}.networkBudget.ipv4Prefix`);
    expect(fieldOf(() => resolvePoolSettings({ networkBudget: { ipv6Prefix: 8 } }, f))).toBe(`${f}.networkBudget.ipv6Prefix`);
    expect(fieldOf(() => resolvePoolSettings({ networkBudget: "off" }, f))).toBe(`${f}.networkBudget`);
    expect(fieldOf(() => resolvePoolSettings({ sessionStart: [] }, f))).toBe(`${f}.sessionStart`);
  });

  it("cut a client address to its network", () => {
    const d = { ipv4Prefix: 24, ipv6Prefix: 48 };
    expect(clientNetwork("203.0.113.77", d)).toBe("203.0.113.0/24");
    expect(clientNetwork("::ffff:203.0.113.77", d)).toBe("203.0.113.0/24");
    expect(clientNetwork("127.9.200.3", { ...d, ipv4Prefix: 16 })).toBe("127.9.0.0/16");
    expect(clientNetwork("10.1.2.255", { ...d, ipv4Prefix: 30 })).toBe("10.1.2.252/30");
    expect(clientNetwork("2001:db8:abcd:12::1", d)).toBe("2001:db8:abcd:0:0:0:0:0/48");
    expect(clientNetwork("2001:db8:abcd:ffff::1", { ...d, ipv6Prefix: 56 })).toBe("2001:db8:abcd:ff00:0:0:0:0/56");
    expect(clientNetwork("not an address", d)).toBeUndefined();
  });
});
