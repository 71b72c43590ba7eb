/**
 * The second local stack of a bench run: reference origins that *require* a PROXY v2
 * header signed with the auth TLV, and an edge that reaches them over the `tcp` transport.
 * Same origin flags as the fetch stack, so the two edge columns differ only in transport.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStack, type RunningStack, type StackOptions } from "../../infra/local/stack.ts";

const KID = "bench";

export async function startTcpStack(options: StackOptions & { originArgs: readonly string[] }): Promise<RunningStack> {
  const dir = await mkdtemp(join(tmpdir(), "push-edge-bench-"));
  const keys = JSON.stringify({ [KID]: randomBytes(32).toString("base64url") });
  const keyFile = join(dir, "proxy-auth-keys.json");
  await writeFile(keyFile, keys);
  try {
    const stack = await startStack({
      ...options,
      originArgs: [...options.originArgs, "--proxy", "require", "--proxy-auth-keys-file", keyFile],
      originTransport: { transport: "tcp", proxy: { version: 2, authKid: KID } },
      vars: { ...options.vars, PROXY_AUTH_KEYS: keys },
    });
    return {
      ...stack,
      async close() {
        await stack.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
