/**
 * Checks the edge's configuration before the local stack starts it, with the Worker's own
 * parser, so a bad POOLS or key ring fails `npm start` at once with the field named —
 * rather than on the first request, as a 500.
 */
import { resolveConfig } from "../../config/config.ts";
import { adminTokens } from "../../workers/edge/routes/admin-access.ts";
import { resolveKeyRing } from "../../workers/edge/token/keyring.ts";
import { resolveNetworkBinding } from "../../workers/edge/token/network.ts";

export function validateEdgeVars(vars: Record<string, string | undefined>): void {
  try {
    resolveConfig(vars);
    resolveKeyRing(vars);
    resolveNetworkBinding(vars.TOKEN_NETWORK_BINDING);
    adminTokens(vars);
  } catch (err) {
    throw new Error(`edge configuration is invalid: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
