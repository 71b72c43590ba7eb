/**
 * Everything a relay needs to reach a session's origin: where it is, how (fetch or tcp),
 * and, for tcp, what goes in the PROXY header (the session key for PP2_TYPE_UNIQUE_ID and
 * the key ring that signs the header).
 */
import type { TransportSettings } from "./settings.ts";

export interface OriginLink {
  readonly url: string;
  readonly transport: TransportSettings;
  readonly sessionKey: string;
  /** The PROXY_AUTH_KEYS secret as configured (parsed when a header is signed). */
  readonly proxyAuthKeys: string | undefined;
}
