/**
 * What waking a hibernated session object costs (relay mode `edge`): opens N sessions,
 * each holding an SSE stream the edge pumps, lets them sit idle past the runtime's
 * hibernation period, then times one admin read of each session — which wakes its object
 * (`activity.wakes` says whether it did) — and a second read right after, with the object
 * awake. The difference is the wake: constructor, SQLite load, schema check.
 *
 *   node tools/profile/session-wake.ts [--sessions 50] [--idle-ms 15000]
 */
import { request } from "node:http";
import { startStack } from "../../infra/local/stack.ts";
import { toolArgs } from "./tool-args.ts";

const values = toolArgs(import.meta.url, { sessions: { type: "string", default: "50" }, "idle-ms": { type: "string", default: "15000" } });
const n = Number(values.sessions);
const stack = await startStack({ port: 0, originBasePort: 0, prebuilt: true, originCount: 1, originArgs: ["--interval-ms", "1000"] });
const streams: Array<() => void> = [];
try {
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const created = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
    const token = created.headers.get("x-affinity-token") ?? "";
    const { id } = (await created.json()) as { id: string };
    streams.push(openStream(`${stack.edgeUrl}/session/${id}/stream`, token));
    tokens.push(token);
  }
  await new Promise((r) => setTimeout(r, Number(values["idle-ms"])));
  const cold: number[] = [];
  const warm: number[] = [];
  let woke = 0;
  for (const token of tokens) {
    const sk = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sk: string };
    const first = await timedRead(sk.sk);
    const second = await timedRead(sk.sk);
    if (first.wakes > 0) woke++;
    cold.push(first.ms);
    warm.push(second.ms);
  }
  console.log(`${n} sessions, ${woke} woke from hibernation on the first read`);
  console.log(`admin read, object asleep: p50 ${pct(cold, 0.5).toFixed(1)} ms, p90 ${pct(cold, 0.9).toFixed(1)} ms`);
  console.log(`admin read, object awake:  p50 ${pct(warm, 0.5).toFixed(1)} ms, p90 ${pct(warm, 0.9).toFixed(1)} ms`);
} finally {
  for (const close of streams) close();
  await stack.close();
}

async function timedRead(sk: string): Promise<{ ms: number; wakes: number }> {
  const started = performance.now();
  const res = await fetch(`${stack.edgeUrl}/_edge/admin/sessions/${sk}`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  const body = (await res.json()) as { activity?: { wakes: number } };
  return { ms: performance.now() - started, wakes: body.activity?.wakes ?? 0 };
}

function openStream(url: string, token: string): () => void {
  const req = request(url, { headers: { "x-affinity-token": token } }, (res) => res.resume());
  req.end();
  return () => req.destroy();
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}
