/**
 * A pool's edge path policy (config/path-policy.ts, issue 16 F2): the default refuses the
 * reference origin's admin and debug paths in every spelling an origin might decode to the
 * same thing; `deny`/`allow` are configurable and their errors name the field.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_PATH_POLICY, decodedReadings, pathMatches, pathReadings, pathRefusal, resolvePathPolicy } from "../../config/path-policy.ts";
import { resolvePoolSettings } from "../../config/pool-settings.ts";

describe("edge path policy", () => {
  it("refuses /admin/* and /_debug/* by default, however the path is spelled", () => {
    const spellings = [
      "/admin/state",
      "/admin",
      "/admin/",
      "/_debug/requests",
      "/ADMIN/State",
      "/%61dmin/state",
      "/%2561dmin/state",
      "//admin/state",
      "/x/..%2fadmin/state",
      "/x/%2e%2e/admin/state",
      "/admin;jsessionid=1/state",
      "/_debug%2frequests",
      "/.%2f_debug/requests",
    ];
    for (const path of spellings) expect(pathRefusal(DEFAULT_PATH_POLICY, path), path).toBeDefined();
  });

  it("lets protocol paths through, including ones that merely contain the words", () => {
    for (const path of ["/session", "/session/abc/stream", "/lightstreamer/create_session.txt", "/socket.io/", "/ws", "/administrator", "/x/admin/state", "/_debugger", "/"]) {
      expect(pathRefusal(DEFAULT_PATH_POLICY, path), path).toBeUndefined();
    }
  });

  it("reads a path with nothing to decode or normalise as itself, as the full reading does", () => {
    const plain = ["/", "/session", "/Session/ABC/stream", "/socket.io/", "/.well-known/x", "/a/.../b", "/a/..b/c", "/a.", "/lightstreamer/bind_session.txt"];
    for (const path of plain) {
      expect(pathReadings(path), path).toEqual(new Set([path.toLowerCase()]));
      expect(decodedReadings(path), path).toEqual(new Set([path.toLowerCase()]));
    }
    // Anything that could read differently takes the full way.
    const other = ["//admin", "/a/./b", "/a/../b", "/a/.", "/a/..", "/%61", "/a;b=1/c", "/a\\b", "/a//b"];
    for (const path of other) expect(pathReadings(path), path).toEqual(decodedReadings(path));
    for (const path of other) expect(decodedReadings(path), path).not.toEqual(new Set([path.toLowerCase()]));
  });

  it("an allow list refuses every path it does not name; deny still wins", () => {
    const policy = resolvePathPolicy({ allow: ["/lightstreamer*", "/session/*"], deny: ["/session/*/control"] }, "p");
    expect(pathRefusal(policy, "/lightstreamer/bind_session.txt")).toBeUndefined();
    expect(pathRefusal(policy, "/session/abc/stream")).toBeUndefined();
    expect(pathRefusal(policy, "/session/abc/control")).toBe("/session/*/control");
    expect(pathRefusal(policy, "/health")).toBe("not in allow");
    expect(pathRefusal(policy, "/lightstreamer/..%2fhealth")).toBe("not in allow");
    // The default deny list is replaced by an explicit one: /admin is now only refused by `allow`.
    expect(pathRefusal(policy, "/admin/state")).toBe("not in allow");
    expect(pathRefusal(resolvePathPolicy({ deny: [] }, "p"), "/admin/state")).toBeUndefined();
  });

  it("matches * across segments and a trailing /* on the bare prefix", () => {
    expect(pathMatches("/a/*", "/a")).toBe(true);
    expect(pathMatches("/a/*", "/ab")).toBe(false);
    expect(pathMatches("/a/*/c", "/a/b/x/c")).toBe(true);
    expect(pathMatches("/a/*/c", "/a/b/x/cd")).toBe(false);
    expect(pathMatches("/a", "/a/")).toBe(false);
  });

  it("is a pool setting with the default when absent, and errors name the field", () => {
    expect(resolvePoolSettings(undefined, "POOLS.pools[0].settings").pathPolicy).toEqual(DEFAULT_PATH_POLICY);
    expect(() => resolvePoolSettings({ pathPolicy: { deny: ["admin"] } }, "POOLS.pools[0].settings")).toThrow(
      'POOLS.pools[0].settings.pathPolicy.deny[0]: must be a path pattern starting with "/"',
    );
    expect(() => resolvePoolSettings({ pathPolicy: { block: [] } }, "POOLS.pools[0].settings")).toThrow("POOLS.pools[0].settings.pathPolicy.block: unknown setting");
    expect(() => resolvePoolSettings({ pathPolicy: { allow: "/x" } }, "POOLS.pools[0].settings")).toThrow("POOLS.pools[0].settings.pathPolicy.allow: must be an array");
  });
});
