/** The adapters in the order they are asked; the generic adapter is last and owns the rest. */
import type { ProtocolAdapter } from "./adapter.ts";
import { engineIoAdapter } from "./engine-io.ts";
import { genericAdapter } from "./generic.ts";
import { tlcpAdapter } from "./tlcp/adapter.ts";

const ADAPTERS: readonly ProtocolAdapter[] = [tlcpAdapter, engineIoAdapter, genericAdapter];

export function adapterFor(url: URL): ProtocolAdapter {
  return ADAPTERS.find((a) => a.matches(url)) ?? genericAdapter;
}

export function adapterNamed(name: string): ProtocolAdapter | undefined {
  return ADAPTERS.find((a) => a.name === name);
}
