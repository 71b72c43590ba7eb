/**
 * Client → edge → session DO → origin over the `tcp` transport: every origin connection
 * opens with a signed PROXY v2 header and carries HTTP/1.1 or RFC 6455 framing written by
 * the Worker itself. Against the `edge` column (fetch transport, same workload, same
 * reference origins) it shows what the raw-TCP path costs or saves. Its balancer is the
 * edge's, so the balance scenarios leave this column out.
 */
import { edgeClient } from "./edge.ts";
import type { Target } from "./target.ts";

export function edgeTcpTarget(edgeUrl: string, pids?: () => number[]): Target {
  return {
    ...edgeClient(edgeUrl, pids),
    name: "edge-tcp",
    path: "client → edge (workerd) → session DO → signed PROXY v2 + HTTP/1.1 or WebSocket over TCP → origin",
  };
}
