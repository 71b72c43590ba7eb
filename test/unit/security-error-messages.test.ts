/**
 * F14 (issue 16): a public error never echoes the configuration. A configuration error is
 * `500 config_invalid` with a fixed sentence for clients; the field and the bad value go
 * to the log (`config_invalid`) and to an operator presenting an admin token.
 * (Origin ids in relay errors: test/integration/security-error-messages.test.ts.)
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../workers/edge/app.ts";

const app = createApp();
const SECRET_URL = "origin-secret-name.internal 9999"; // not a URL: the error echoes it
const POOLS = JSON.stringify({ pools: [{ name: "default", hosts: ["*"], origins: [{ id: "o-secret", url: SECRET_URL }] }] });

const call = (path: string, headers: Record<string, string> = {}) =>
  app.request(`http://push.example.com${path}`, { method: "POST", headers }, { ...env, POOLS });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("F14: configuration errors", () => {
  it("a client gets config_invalid and a fixed sentence: no field, no value", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const path of ["/session", "/socket.io/?EIO=4&transport=polling", "/lightstreamer/create_session.txt"]) {
      const res = await call(path);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: "config_invalid", message: expect.any(String) });
      for (const secret of ["POOLS", "origin-secret-name", "9999", "o-secret"]) expect({ path, text, secret }).not.toEqual({ path, text: expect.stringContaining(secret), secret });
    }
    // The operator's log names the field and the value.
    const lines = logged.mock.calls.map((args) => String(args[0]));
    expect(lines.some((l) => l.includes('"event":"config_invalid"') && l.includes("POOLS.pools[0].origins[0].url") && l.includes("origin-secret-name"))).toBe(true);
  });

  it("an operator presenting an admin token is told the field", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await call("/session", { authorization: `Bearer ${env.ADMIN_TOKEN}` });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: "config_invalid", message: expect.stringContaining("POOLS.pools[0].origins[0].url") });
    const wrong = await call("/session", { authorization: "Bearer not-the-admin-token" });
    expect(await wrong.text()).not.toContain("POOLS");
  });
});
