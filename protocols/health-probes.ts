/**
 * The adapters' health probes by adapter name (POOLS `health.protocol`). Kept beside the
 * adapter registry rather than on each adapter object, so adding a probe touches no
 * adapter; config/health-settings.ts PROBE_PROTOCOLS lists the same names for validation.
 */
import { engineIoProbe } from "./engine-io-probe.ts";
import type { HealthProbe } from "./health-probe.ts";

const PROBES: Readonly<Record<string, HealthProbe>> = {
  "engine.io": engineIoProbe,
};

export function healthProbeFor(protocol: string): HealthProbe | undefined {
  return PROBES[protocol];
}
