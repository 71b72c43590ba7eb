/**
 * Network binding with the real edge (TOKEN_NETWORK_BINDING = "on"): clients connect from
 * loopback addresses of their own — 127.0.0.x is one /24, 127.0.1.x another — and the edge
 * sees each client's real address. A token works from its own /24 and is refused with
 * 401 token_wrong_network from another, before any origin sees the request.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson } from "./support/http-clients.ts";
import { originRequests, testStack } from "./support/stack.ts";

let stack: RunningStack;

beforeAll(async () => {
  stack = await testStack({ originCount: 2, vars: { TOKEN_NETWORK_BINDING: "on" } });
});
afterAll(async () => {
  await stack?.close();
});

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? "";

describe("network-bound tokens", () => {
  it("work from the client's /24 and are refused from another network", async () => {
    const created = await httpJson(`${stack.edgeUrl}/session`, { method: "POST", localAddress: "127.0.0.21" });
    expect(created.status).toBe(201);
    const { id, origin } = created.body as { id: string; origin: string };
    const token = header(created.headers["x-affinity-token"]);
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { net?: string };
    expect(typeof claims.net).toBe("string");

    const control = (localAddress: string) =>
      httpJson(`${stack.edgeUrl}/session/${id}/control`, {
        method: "POST",
        localAddress,
        headers: { "x-affinity-token": token },
        body: { cmd: "echo", data: localAddress },
      });

    const sameNetwork = await control("127.0.0.99");
    expect(sameNetwork.status).toBe(200);
    expect(sameNetwork.headers["x-origin-id"]).toBe(origin);

    const elsewhere = await control("127.0.1.99");
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body).toEqual({ error: "token_wrong_network", message: expect.any(String) });

    const logged = [...(await originRequests(stack)).values()].flat().filter((r) => r.path === `/session/${id}/control`);
    expect(logged.map((r) => r.client)).toEqual(["127.0.0.99"]);
  });
});
