/**
 * F6 (issue 16): host names are compared normalised — case, port and a trailing dot —
 * wherever a host decides something: the admin host gate (admin API, dashboard, metrics)
 * and pool selection. `a.test.` is the same DNS name as `a.test`; before the fix it
 * reached the admin API on a pool's public host, where `a.test` got 403.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { poolForHost, resolveConfig } from "../../config/config.ts";
import { normalizeHostName } from "../../config/host-name.ts";
import { createApp } from "../../workers/edge/app.ts";

const app = createApp();
const POOLS = JSON.stringify({
  pools: [
    { name: "public", hosts: ["a.test"], origins: [{ id: "o1", url: "http://127.0.0.1:9" }] },
    { name: "other", hosts: ["B.Test."], origins: [{ id: "o2", url: "http://127.0.0.1:9" }] },
    { name: "rest", hosts: ["*"], origins: [{ id: "o3", url: "http://127.0.0.1:9" }] },
  ],
});
const SPELLINGS = ["a.test.", "A.TEST", "a.test.:8787", "A.Test.:443", "a.test.."];

const edge = (host: string, path: string, vars: Partial<Env> = {}) =>
  app.request(`http://${host}${path}`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }, { ...env, POOLS, ADMIN_HOSTS: "", ...vars });

describe("F6: host names compared normalised", () => {
  it("normalizeHostName drops case, port and trailing dots, keeps IPv6 literals", () => {
    expect(normalizeHostName("A.Test.:8787")).toBe("a.test");
    expect(normalizeHostName("a.test..")).toBe("a.test");
    expect(normalizeHostName("[::1]:8787")).toBe("[::1]");
    expect(normalizeHostName("127.0.0.1:80")).toBe("127.0.0.1");
  });

  it.each(SPELLINGS)("admin API, dashboard and metrics refuse the pool's host spelt %s (ADMIN_HOSTS empty)", async (host) => {
    for (const path of ["/_edge/admin/pool", "/_edge/admin/sessions/none", "/_edge/dashboard", "/_edge/metrics", "/_edge/admin/pool/stream"]) {
      const res = await edge(host, path);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(await res.json()).toMatchObject({ error: "forbidden" });
    }
  });

  it("a listed admin host matches in any spelling, and only it", async () => {
    const vars = { ADMIN_HOSTS: "Ops.Test." };
    expect((await edge("ops.test", "/_edge/admin/sessions/none", vars)).status).toBe(404);
    expect((await edge("OPS.TEST.:8787", "/_edge/admin/sessions/none", vars)).status).toBe(404);
    expect((await edge("a.test.", "/_edge/admin/sessions/none", vars)).status).toBe(403);
  });

  it("pool selection by host: every spelling of a pool's host selects that pool", () => {
    const config = resolveConfig({ POOLS });
    for (const host of SPELLINGS) expect(poolForHost(config, host)?.name).toBe("public");
    // A host configured with capitals and a trailing dot is matched too.
    expect(poolForHost(config, "b.test")?.name).toBe("other");
    expect(poolForHost(config, "B.TEST.:8787")?.name).toBe("other");
    expect(poolForHost(config, "c.test")?.name).toBe("rest");
  });
});
