/** `settings.relay`: `edge` by default, `object` on request, anything else refused naming the field. */
import { describe, expect, it } from "vitest";
import { resolvePoolSettings } from "../../config/pool-settings.ts";

describe("pool setting relay", () => {
  it("defaults to edge and takes object", () => {
    expect(resolvePoolSettings(undefined, "POOLS.pools[0].settings").relay).toBe("edge");
    expect(resolvePoolSettings({ relay: "object" }, "POOLS.pools[0].settings").relay).toBe("object");
  });

  it("refuses anything else, naming the field", () => {
    for (const relay of ["worker", "", 1, null]) {
      expect(() => resolvePoolSettings({ relay }, "POOLS.pools[0].settings")).toThrow('POOLS.pools[0].settings.relay: expected one of "edge", "object"');
    }
  });
});
