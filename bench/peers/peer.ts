/**
 * A classic load balancer started in front of a set of origins for one bench run. Each
 * listens on two ports: `url` balances like a sticky HTTP deployment (HAProxy: round robin
 * + an inserted cookie; nginx: a hash of a client cookie), `sourceUrl` by client address
 * (HAProxy `balance source`, nginx `ip_hash`) — the scenario with a carrier NAT uses it.
 */
export interface PeerOrigin {
  readonly id: string;
  /** http://127.0.0.1:port */
  readonly url: string;
}

export interface RunningPeer {
  readonly name: "haproxy" | "nginx";
  readonly version: string;
  readonly url: string;
  readonly sourceUrl: string;
  /** Its processes (nginx: master and worker), for memory. */
  pids(): number[];
  /** A one-line description of its configuration, for the report. */
  readonly describe: string;
  /** The generated configuration file's text. */
  readonly config: string;
  stop(): Promise<void>;
}

export interface PeerOptions {
  readonly binary: string;
  readonly version: string;
  readonly origins: readonly PeerOrigin[];
  /** Pin the proxy to this CPU (taskset). */
  readonly cpu: number | undefined;
}

export function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port}`;
}
