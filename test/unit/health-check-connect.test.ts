/**
 * The tcp check's connector for real, in workerd: `connect()` from cloudflare:sockets to a
 * port nothing listens on fails, and the check says so in words an operator can act on.
 * (An accepting origin is covered by the integration tests, where real servers run.)
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_HEALTH_SETTINGS } from "../../config/health-settings.ts";
import { originAccess } from "../../durable-objects/pool/checks/origin-access.ts";
import { checkHealth } from "../../durable-objects/pool/health-check.ts";
import { FETCH_TRANSPORT } from "../../relay/transport/settings.ts";

// Port 1 (tcpmux) is not served on a test machine: the connection is refused.
const CLOSED = "http://127.0.0.1:1";

describe("tcp check over connect()", () => {
  it("fails a refused connection, naming the host and port", async () => {
    const report = await checkHealth({
      url: CLOSED,
      settings: { ...DEFAULT_HEALTH_SETTINGS, type: "tcp", timeoutMs: 1_000 },
      access: originAccess(FETCH_TRANSPORT),
      memory: { json: undefined, askedAt: 0 },
      now: Date.now(),
    });
    expect(report.ok).toBe(false);
    expect(report.ok ? "" : report.error).toMatch(/^TCP connect to 127\.0\.0\.1:1 failed \(.+\) — is the server running and listening on that port\?$/);
  });
});
