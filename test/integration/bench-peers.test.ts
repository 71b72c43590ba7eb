// The bench's classic-balancer peers, for real: Debian's HAProxy and nginx (installed by
// npm test's setup step, tools/setup/, before any test runs — never here), the generated configs
// accepted by `haproxy -c` / `nginx -t`, and bench scenarios run through both in front of
// real reference origins: echoes come back, CR requests stay on their session's origin
// (a wrong origin answers 404, counted as an error), and source-address balancing piles
// the carrier NAT's clients onto one origin.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOriginProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import { aggregate } from "../../bench/aggregate.ts";
import { replaceFigures, BEGIN, END } from "../../bench/doc.ts";
import { checkGoals } from "../../bench/goals.ts";
import { haproxyConfig, startHaproxy } from "../../bench/peers/haproxy.ts";
import { findPeerBinaries, type PeerBinary } from "../../bench/peers/install.ts";
import { nginxConfig, startNginx } from "../../bench/peers/nginx.ts";
import type { PeerOrigin, RunningPeer } from "../../bench/peers/peer.ts";
import type { TargetResult } from "../../bench/scenario.ts";
import { crRequests } from "../../bench/scenarios/cr-requests.ts";
import { natBalance } from "../../bench/scenarios/nat-balance.ts";
import { wsEcho, WS_ECHO_PARAMS } from "../../bench/scenarios/ws-echo.ts";
import { haproxyTarget } from "../../bench/targets/haproxy.ts";
import { nginxTarget } from "../../bench/targets/nginx.ts";
import type { Target } from "../../bench/targets/target.ts";
import { HAPROXY, missingMessage, NGINX } from "../../tools/setup/requirements.ts";

const run = promisify(execFile);
const ORIGIN_ARGS = ["--capacity", "100000"];

let binaries: Record<"haproxy" | "nginx", PeerBinary>;
const origins: OriginProcess[] = [];
const peers: RunningPeer[] = [];

function binary(name: "haproxy" | "nginx"): { path: string; version: string } {
  const b = binaries[name];
  // Never a silent skip: a missing peer fails here, naming the setup step.
  if (!b.ok) throw new Error(b.reason);
  return b;
}

beforeAll(async () => {
  binaries = await findPeerBinaries((name) => missingMessage(name === "haproxy" ? HAPROXY : NGINX));
  for (let i = 1; i <= 2; i++) origins.push(await startOriginProcess(`o${i}`, ["--listen", "combined=127.0.0.1:0", ...ORIGIN_ARGS]));
}, 320_000);

afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  await Promise.all(origins.map((o) => o.stop()));
});

const peerOrigins = (): PeerOrigin[] => origins.map((o) => ({ id: o.id, url: o.url }));

async function startPeer(name: "haproxy" | "nginx", list: readonly PeerOrigin[] = peerOrigins()): Promise<RunningPeer> {
  const b = binary(name);
  const peer = await (name === "haproxy" ? startHaproxy : startNginx)({ binary: b.path, version: b.version, origins: list, cpu: undefined });
  peers.push(peer);
  return peer;
}

function targetOf(peer: RunningPeer): Target {
  const start = (list: readonly PeerOrigin[]): Promise<RunningPeer> => startPeer(peer.name, list);
  return peer.name === "haproxy" ? haproxyTarget(peer, start) : nginxTarget(peer, start);
}

function metric(result: TargetResult, key: string) {
  const m = result.metrics.find((x) => x.key === key);
  if (m === undefined) throw new Error(`no metric ${key} in ${JSON.stringify(result)}`);
  return m;
}

describe("bench peers: generated configurations", () => {
  it("HAProxy's passes haproxy -c, with cookie stickiness, tunnel timeout and source balancing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bench-peers-test-"));
    try {
      const config = haproxyConfig({ origins: peerOrigins(), port: 18001, sourcePort: 18002 });
      expect(config).toContain("cookie SRV insert indirect nocache");
      expect(config).toContain("timeout tunnel 1h");
      expect(config).toContain("no option http-buffer-request");
      expect(config).toContain("balance source");
      const file = join(dir, "haproxy.cfg");
      await writeFile(file, config);
      const { stdout, stderr } = await run(binary("haproxy").path, ["-c", "-f", file]);
      expect(`${stdout}${stderr}`).toMatch(/Configuration file is valid/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("nginx's passes nginx -t, with buffering off, upgrade headers, cookie hash and ip_hash", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bench-peers-test-"));
    try {
      const config = nginxConfig({ origins: peerOrigins(), port: 18003, sourcePort: 18004, dir });
      for (const line of ["proxy_buffering off;", "proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;", "hash $cookie_pebench consistent;", "ip_hash;"]) {
        expect(config).toContain(line);
      }
      const file = join(dir, "nginx.conf");
      await writeFile(file, config);
      const { stderr } = await run(binary("nginx").path, ["-t", "-e", join(dir, "error.log"), "-p", dir, "-c", file]);
      expect(stderr).toMatch(/test is successful/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.each(["haproxy", "nginx"] as const)("bench scenarios through %s", (name) => {
  let target: Target;
  beforeAll(async () => {
    target = targetOf(await startPeer(name));
  });

  it("ws-echo (quick): every echo comes back through the proxy", async () => {
    const result = await wsEcho.prepare("quick").run(target, () => {});
    expect(result.errors).toEqual([]);
    const rtt = metric(result, "rtt");
    expect(rtt.kind === "latency" && rtt.summary.count).toBe(WS_ECHO_PARAMS.quick.messages);
  });

  it("cr-requests (quick): CR requests reach the origin that made the session", async () => {
    const result = await crRequests.prepare("quick").run(target, () => {});
    // A CR request at the wrong origin is a 404 (session_not_found), counted as an error.
    expect(result.errors).toEqual([]);
    const rate = metric(result, "rate");
    expect(rate.kind === "rate" && rate.value).toBeGreaterThan(0);
  });

  it("nat-balance (quick): source balancing puts the NAT's 40% on one origin", async () => {
    const result = await natBalance.prepare("quick").run(target, () => {});
    expect(result.errors).toEqual([]);
    const held = metric(result, "held");
    expect(held.kind === "rate" && held.value).toBe(150);
    // One origin holds at least the NAT's 40% against a mean of 33%: max/mean ≥ 1.2.
    const spread = metric(result, "max-mean");
    expect(spread.kind === "rate" && spread.value).toBeGreaterThanOrEqual(1.2);
  }, 120_000);
});

describe("bench report plumbing", () => {
  it("aggregates rounds into mean ± half-range and checks targets against HAProxy", () => {
    const round = (edgeP99: number, haproxyP99: number) => [
      {
        name: "ws-echo",
        title: "echo",
        summary: "",
        params: {},
        results: (
          [
            ["haproxy", haproxyP99],
            ["edge", edgeP99],
          ] as const
        ).map(([t, p99]) => ({
          target: t,
          metrics: [{ kind: "latency" as const, key: "rtt", label: "round trip", summary: { count: 1, mean: p99, min: p99, p50: p99, p90: p99, p99, max: p99 } }],
          errorCount: 0,
          errors: [],
          elapsedMs: 1,
        })),
      },
    ];
    const agg = aggregate([round(0.2, 0.3), round(0.3, 0.3)], ["haproxy", "edge"]);
    const p99 = agg.figures.find((f) => f.key === "ws-echo/rtt/p99");
    expect(p99?.values.edge?.mean).toBeCloseTo(0.25);
    expect(p99?.values.edge?.spread).toBeCloseTo(0.05);
    const goals = checkGoals(agg);
    expect(goals.find((g) => g.goal.startsWith("WS echo RTT (session DO) p99"))?.met).toBe(true);
    expect(goals.find((g) => g.goal.startsWith("S session creation"))?.met).toBeUndefined();
  });

  it("--write-doc replaces only the block between the markers", () => {
    const doc = `# Perf\nintro\n${BEGIN}\nold figures\n${END}\noutro\n`;
    const out = replaceFigures(doc, "new figures\n");
    expect(out).toBe(`# Perf\nintro\n${BEGIN}\n\nnew figures\n\n${END}\noutro\n`);
    expect(() => replaceFigures("no markers", "x")).toThrow(/markers/);
  });
});
