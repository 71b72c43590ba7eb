/**
 * The S flood of the `s-flood` scenario, in a thread of its own: the scenario's driver also
 * runs the fault proxies every edge→origin connection goes through and the chaos clients,
 * and a flood looping on the same event loop starved them — the origins looked unreachable
 * to the edge, which measured the harness, not the edge. Sends `POST /session` from one
 * local address over `concurrency` connections until `until`, then posts its counts.
 */
import { parentPort, workerData } from "node:worker_threads";
import { request } from "../lib/http.ts";

export interface FloodOrders {
  readonly edgeUrl: string;
  readonly address: string;
  readonly until: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

export interface FloodCounts {
  sent: number;
  created: number;
  refused429: number;
  retryAfter: number;
  other: number;
}

async function flood(orders: FloodOrders): Promise<FloodCounts> {
  const counts: FloodCounts = { sent: 0, created: 0, refused429: 0, retryAfter: 0, other: 0 };
  const loop = async (): Promise<void> => {
    while (Date.now() < orders.until) {
      counts.sent++;
      const answer = await request(`${orders.edgeUrl}/session`, { method: "POST", localAddress: orders.address }, orders.timeoutMs);
      if (!answer.ok) counts.other++;
      else if (answer.status === 201) counts.created++;
      else if (answer.status === 429) {
        counts.refused429++;
        if (answer.headers["retry-after"] !== undefined) counts.retryAfter++;
      } else counts.other++;
    }
  };
  await Promise.all(Array.from({ length: orders.concurrency }, loop));
  return counts;
}

if (parentPort !== null) {
  const port = parentPort;
  void flood(workerData as FloodOrders).then((counts) => port.postMessage(counts));
}
