/**
 * `push-edge` as an operator runs it: the real binary against the real local stack, for
 * every command — human output, `--json`, and the exit codes of README "CLI" (1 for an
 * operation the edge refused or a token that does not verify, 2 for usage, 3 for an edge
 * that cannot be reached or refuses the admin token).
 */
import { spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { DEFAULT_ORIGIN_CAPACITY } from "../../config/config.ts";
import { Fleet } from "../../infra/local/session-fleet.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson } from "./support/http-clients.ts";
import { runCli, startCli } from "./support/push-edge-cli.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

// The origins report a larger capacity than the edge's default, so the table shows the edge's.
const ORIGIN_ARGS = ["--interval-ms", "0", "--capacity", "100000", "--session-idle-ms", "600000"];
/** Fast health rounds, so drain progress and state changes show within a second or two. */
const FAST = { health: { intervalMs: 500, timeoutMs: 400, rise: 1, fall: 1 }, slowStartSeconds: 0, rebalance: { enabled: false } };

let stack: RunningStack;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await testStack({ originCount: 3, originArgs: ORIGIN_ARGS, poolSettings: FAST });
  // Like an operator's shell: the edge and its admin token in the environment.
  env = { PUSH_EDGE_URL: stack.edgeUrl, PUSH_EDGE_ADMIN_TOKEN: stack.adminToken };
});
afterAll(async () => {
  await stack.close();
});

interface OriginJson {
  id: string;
  state: string;
  healthy: boolean;
  sessions: number;
  capacity: number;
  drain: { ended: number; rate: number } | null;
}

async function poolView(): Promise<OriginJson[]> {
  const res = await httpJson(`${stack.edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  return (res.body as { pools: Array<{ origins: OriginJson[] }> }).pools[0]?.origins ?? [];
}

/** A session through the edge: its token, session key, and the origin that took it. */
async function newSession(): Promise<{ token: string; sk: string; origin: string; originSessionId: string }> {
  const res = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
  expect(res.status).toBe(201);
  const token = String(res.headers["x-affinity-token"]);
  const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sk: string };
  return { token, sk: claims.sk, origin: String(res.headers["x-origin-id"]), originSessionId: String(res.headers["x-session-id"]) };
}

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

describe("push-edge: usage", () => {
  it("prints help for the CLI and each command, and exits 2 naming an unknown command or flag", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const name of ["status", "drain", "block", "activate", "session", "tail", "token"]) expect(help.stdout).toContain(`  ${name} `);
    expect(help.stdout).toContain("exit codes");
    const drainHelp = await runCli(["drain", "--help"]);
    expect(drainHelp.code).toBe(0);
    expect(drainHelp.stdout).toMatch(/^usage: push-edge drain <origin>/);

    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const badFlag = await runCli(["status", "--colour"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("--colour");
    const missing = await runCli(["drain"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing <origin>");
    const badRate = await runCli(["drain", "o1", "--rate", "fast"], env);
    expect(badRate.code).toBe(2);
    expect(badRate.stderr).toContain("--rate must be a number > 0");
  });

  it("runs as `npx push-edge` with an older system Node first on PATH", async () => {
    // /usr/bin first: npx and the bin's shebang find the system node; the launcher hands over to Node 22.
    const child = spawn("npx", ["--no-install", "push-edge", "status", "--json"], {
      cwd: REPO_ROOT,
      env: { ...process.env, PATH: `/usr/bin:/bin:${process.env.PATH ?? ""}`, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = await withTimeout(new Promise<number | null>((resolve) => child.once("close", resolve)), 60_000, "npx push-edge");
    expect(code).toBe(0);
    expect(parseJson<{ pools: Array<{ name: string }> }>(out).pools.map((p) => p.name)).toEqual(["default"]);
  });
});

describe("push-edge: reaching the edge", () => {
  it("exits 3 with the edge's message when the admin token is wrong, with --json on stdout too", async () => {
    const res = await runCli(["status", "--token", "not-the-token", "--json"], env);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("the edge refused the admin token: missing or wrong admin token");
    expect(parseJson<{ error: string }>(res.stdout).error).toBe("unauthorized");
    const fromEnv = await runCli(["block", "o1"], { ...env, PUSH_EDGE_ADMIN_TOKEN: "also-wrong" });
    expect(fromEnv.code).toBe(3);
    expect((await poolView()).find((o) => o.id === "o1")?.state).toBe("active");
  });

  it("exits 3 naming the URL when nothing answers there", async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const res = await runCli(["status", "--url", `http://127.0.0.1:${port}`]);
    expect(res.code).toBe(3);
    expect(res.stderr).toBe(`push-edge status: could not reach the edge at http://127.0.0.1:${port}: ECONNREFUSED\n`);
  });

  it("sends the dev token only to the default local URL: elsewhere it needs --token or the env var", async () => {
    const res = await runCli(["status"], { PUSH_EDGE_URL: stack.edgeUrl });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("no admin token given: pass --token or set PUSH_EDGE_ADMIN_TOKEN");
    const withFlag = await runCli(["status", "--url", stack.edgeUrl, "--token", stack.adminToken]);
    expect(withFlag.code).toBe(0);
  });
});

describe("push-edge: an edge whose admin API is on another host", () => {
  it("exits 3 saying the edge refused admin access (403), pointing at --url", async () => {
    const other = await testStack({ originCount: 1, vars: { ADMIN_HOSTS: "push-admin.example.com" } });
    try {
      const res = await runCli(["status", "--url", other.edgeUrl, "--token", other.adminToken]);
      expect(res.code).toBe(3);
      expect(res.stderr).toBe(
        "push-edge status: the edge refused admin access: the admin API is not served on host 127.0.0.1 (see ADMIN_HOSTS) (point --url at an admin host)\n",
      );
    } finally {
      await other.close();
    }
  });
});

describe("push-edge status", () => {
  it("shows each origin's health, state, sessions, capacity and load, and --json the pool view", async () => {
    await withTimeout(
      (async () => {
        while (!(await poolView()).every((o) => o.healthy)) await new Promise((r) => setTimeout(r, 200));
      })(),
      15_000,
      "every origin to be checked healthy",
    );
    const table = await runCli(["status"], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^pool default {2}hosts \* {2}3 origins/);
    expect(lines[1]).toMatch(/^ORIGIN\s+HEALTH\s+STATE\s+SESSIONS\s+CAPACITY\s+LOAD\s+URL$/);
    for (const o of stack.origins) {
      expect(lines.find((l) => l.startsWith(`${o.id} `))).toMatch(new RegExp(`^${o.id}\\s+up\\s+active\\s+\\d+\\s+${DEFAULT_ORIGIN_CAPACITY}\\s+\\[[#.]{10}\\]\\s+\\d+%\\s+${o.url}$`));
    }

    const json = await runCli(["status", "--json"], env);
    expect(json.code).toBe(0);
    const view = parseJson<{ pools: Array<{ name: string; origins: OriginJson[] }> }>(json.stdout);
    expect(view.pools.map((p) => p.name)).toEqual(["default"]);
    expect(view.pools[0]?.origins.map((o) => o.id)).toEqual(stack.origins.map((o) => o.id));
    expect(view.pools[0]?.origins.every((o) => o.healthy && o.state === "active" && o.capacity === DEFAULT_ORIGIN_CAPACITY)).toBe(true);

    const unknownPool = await runCli(["status", "--pool", "nope"], env);
    expect(unknownPool.code).toBe(1);
    expect(unknownPool.stderr).toContain('no pool named "nope" (pools: default)');
  });
});

describe("push-edge block / activate / maintenance", () => {
  it("changes the origin's state at the edge, and exits 1 naming an unknown origin", async () => {
    const block = await runCli(["block", "o2", "--json"], env);
    expect(block.code).toBe(0);
    expect(parseJson<{ origin: OriginJson }>(block.stdout).origin.state).toBe("blocked");
    expect((await poolView()).find((o) => o.id === "o2")?.state).toBe("blocked");

    const activate = await runCli(["activate", "o2"], env);
    expect(activate.code).toBe(0);
    expect(activate.stdout).toContain("o2 is now active");
    expect((await poolView()).find((o) => o.id === "o2")?.state).toBe("active");

    const maintenance = await runCli(["maintenance", "o3", "--rate", "5", "--json"], env);
    expect(maintenance.code).toBe(0);
    expect(parseJson<{ origin: OriginJson }>(maintenance.stdout).origin).toMatchObject({ id: "o3", state: "maintenance", drain: { rate: 5 } });
    expect((await poolView()).find((o) => o.id === "o3")?.state).toBe("maintenance");
    expect((await runCli(["activate", "o3"], env)).code).toBe(0);
    expect((await poolView()).find((o) => o.id === "o3")?.state).toBe("active");

    const unknown = await runCli(["block", "o9"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("push-edge block: pool default has no origin o9\n");
    const unknownJson = await runCli(["activate", "o9", "--json"], env);
    expect(unknownJson.code).toBe(1);
    expect(parseJson<{ error: string; message: string }>(unknownJson.stdout)).toEqual({ error: "not_found", message: "pool default has no origin o9" });
    const otherPool = await runCli(["block", "o1", "--pool", "elsewhere"], env);
    expect(otherPool.code).toBe(1);
    expect(otherPool.stderr).toContain('no pool named "elsewhere"');
  });
});

describe("push-edge session / tail", () => {
  it("shows one session's record and events; --json has the edge's record", async () => {
    const s = await newSession();
    const human = await runCli(["session", s.sk], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^session\\s+${s.sk}$`, "m"));
    expect(human.stdout).toMatch(new RegExp(`^origin\\s+${s.origin} http://`, "m"));
    expect(human.stdout).toMatch(/^\s+1\s+\S+ \S+\s+created\s+origin=/m);

    const json = await runCli(["session", s.sk, "--json"], env);
    expect(json.code).toBe(0);
    const view = parseJson<{ session: { sk: string; originId: string; state: string }; events: Array<{ kind: string }> }>(json.stdout);
    expect(view.session).toMatchObject({ sk: s.sk, originId: s.origin, state: "active" });
    // `woke` marks the object waking from hibernation (docs/relay-modes.md): on a busy
    // machine the CLI's start-up alone can outlast the runtime's ~10 s idle period.
    expect(view.events.map((e) => e.kind).filter((k) => k !== "woke")).toEqual(["created"]);

    // Found by the id the origin gave the session (its X-Session-Id), as in the origin's logs.
    const byOriginId = await runCli(["session", "--origin-session-id", s.originSessionId, "--json"], env);
    expect(byOriginId.code).toBe(0);
    expect(parseJson<{ session: { sk: string } }>(byOriginId.stdout).session.sk).toBe(s.sk);
    const noneByOriginId = await runCli(["session", "--origin-session-id", "nobody-has-this-id"], env);
    expect(noneByOriginId.code).toBe(1);
    expect(noneByOriginId.stderr).toContain("no live session has origin session id nobody-has-this-id");
    // Origin ids are random too: one that starts with "-" is still the flag's value.
    const dashedOriginId = await runCli(["session", "--origin-session-id", "-nobody-has-this-id"], env);
    expect(dashedOriginId.code).toBe(1);
    expect(dashedOriginId.stderr).toContain("no live session has origin session id -nobody-has-this-id");

    const unknown = await runCli(["session", "no-such-session", "--json"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no session with key no-such-session");
    expect(parseJson<{ error: string }>(unknown.stdout).error).toBe("session_not_found");
    // Session keys are base64url: one in 64 starts with "-". Such a key is still the
    // positional, not a cluster of short flags (a usage error, exit 2).
    const dashed = await runCli(["session", "-no-such-session", "--json"], env);
    expect(dashed.code, dashed.stderr).toBe(1);
    expect(dashed.stderr).toContain("no session with key -no-such-session");
  });

  it("finds the session from what the user has — its key, the origin's X-Session-Id, or the whole token — and says which", async () => {
    const s = await newSession();
    const cases = [
      { given: s.sk, matchedBy: "session_key", words: "session key" },
      { given: s.originSessionId, matchedBy: "origin_session_id", words: "origin session id (X-Session-Id)" },
      { given: s.token, matchedBy: "token", words: "the token's session key (sk claim)" },
    ];
    for (const c of cases) {
      const human = await runCli(["session", c.given], env);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(new RegExp(`^matched\\s+${c.words.replace(/[()]/g, "\\$&")}$`, "m"));
      expect(human.stdout).toMatch(new RegExp(`^session\\s+${s.sk}$`, "m"));
      const json = await runCli(["session", c.given, "--json"], env);
      expect(json.code, json.stderr).toBe(0);
      expect(parseJson<{ matchedBy: string; session: { sk: string; originId: string } }>(json.stdout)).toMatchObject({
        matchedBy: c.matchedBy,
        session: { sk: s.sk, originId: s.origin },
      });
    }
    // Neither a key nor an origin's id: one sentence that says both were tried.
    const neither = await runCli(["session", "nothing-like-this"], env);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toContain("no session with key nothing-like-this, and no live session has origin session id nothing-like-this");
  });

  it("tail follows new events as they happen and stops after --for", async () => {
    const s = await newSession();
    const tail = startCli(["tail", s.sk, "--json", "--interval", "200", "--for", "20"], env);
    await withTimeout(
      (async () => {
        while (!tail.stdout().includes('"created"')) await new Promise((r) => setTimeout(r, 50));
      })(),
      15_000,
      "tail to print the created event",
    );
    // An event that happens while the tail runs: the operator ends the session.
    const end = await httpJson(`${stack.edgeUrl}/_edge/admin/sessions/${s.sk}/end`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.adminToken}` },
      body: { reason: "admin", detail: "cli test" },
    });
    expect(end.status).toBe(200);
    await withTimeout(
      (async () => {
        while (!tail.stdout().includes('"ended"')) await new Promise((r) => setTimeout(r, 50));
      })(),
      15_000,
      "tail to print the ended event",
    );
    const lines = tail.stdout().trim().split("\n").map((l) => parseJson<{ seq: number; kind: string; detail: Record<string, unknown> }>(l));
    expect(lines[0]?.kind).toBe("created");
    expect(lines.at(-1)).toMatchObject({ kind: "ended" });
    expect(lines.map((l) => l.seq)).toEqual([...new Set(lines.map((l) => l.seq))].sort((a, b) => a - b)); // each event once, in order
    tail.child.kill("SIGINT"); // Ctrl-C: stops cleanly, exit 0
    expect((await withTimeout(tail.done, 10_000, "tail to stop on SIGINT")).code).toBe(0);

    const bounded = await runCli(["tail", s.sk, "--for", "1", "--interval", "200"], env, 20_000);
    expect(bounded.code).toBe(0);
    expect(bounded.stdout).toMatch(/#1 {2}created {2}origin=/);
    expect(bounded.stderr).toContain(`following session ${s.sk}`);

    const unknown = await runCli(["tail", "no-such-session", "--for", "1"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no session with key no-such-session");
  });
});

describe("push-edge token inspect", () => {
  it("decodes a token and verifies it at the edge; exit 1 with the reason for a bad one", async () => {
    const s = await newSession();
    const good = await runCli(["token", "inspect", s.token], env);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('"kid":"dev-1"');
    expect(good.stdout).toMatch(new RegExp(`verified {2}yes: key dev-1, pool default, session ${s.sk} on origin ${s.origin}`));

    const json = await runCli(["token", "inspect", s.token, "--json"], env);
    expect(json.code).toBe(0);
    const out = parseJson<{ decoded: { claims: { sk: string } }; verification: { verified: boolean; session: string; origin: string } }>(json.stdout);
    expect(out.decoded.claims.sk).toBe(s.sk);
    expect(out.verification).toMatchObject({ verified: true, session: s.sk, origin: s.origin });

    // One character of the signature changed: decodes fine, does not verify.
    const sig = s.token.split(".")[2] ?? "";
    const tampered = `${s.token.slice(0, s.token.length - sig.length)}${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
    const bad = await runCli(["token", "inspect", tampered, "--json"], env);
    expect(bad.code).toBe(1);
    expect(parseJson<{ verification: { verified: boolean; reason: string } }>(bad.stdout).verification).toMatchObject({ verified: false, reason: "bad_signature" });
    expect(bad.stderr).toContain("token does not verify: bad_signature");

    const garbage = await runCli(["token", "inspect", "not-a-token"], env);
    expect(garbage.code).toBe(1);
    expect(garbage.stdout).toContain("cannot decode");
    expect(garbage.stderr).toContain("token does not verify: malformed");

    const wrongPool = await runCli(["token", "inspect", s.token, "--pool", "elsewhere"], env);
    expect(wrongPool.code).toBe(1);
    expect(wrongPool.stderr).toContain('no pool named "elsewhere"');

    const noSub = await runCli(["token", s.token], env);
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toContain("unknown subcommand");
  });
});

describe("push-edge drain", () => {
  it("drains an origin, showing progress until it holds no session; exit 1 for an unknown origin", async () => {
    const unknown = await runCli(["drain", "o9", "--rate", "5"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("pool default has no origin o9");

    const fleet = new Fleet(stack.edgeUrl);
    try {
      await fleet.open(24);
      // The origin holding the most of the fleet, as the edge counts them.
      await withTimeout(
        (async () => {
          while ((await poolView()).reduce((n, o) => n + o.sessions, 0) < 24) await new Promise((r) => setTimeout(r, 200));
        })(),
        15_000,
        "the edge to count the fleet",
      );
      const target = [...(await poolView())].sort((a, b) => b.sessions - a.sessions)[0];
      const before = target?.sessions ?? 0;
      expect(before).toBeGreaterThan(0);
      const id = target?.id ?? "";

      const res = await runCli(["drain", id, "--rate", "10", "--timeout", "60", "--json"], env, 90_000);
      expect(res.code).toBe(0);
      const result = parseJson<{ origin: string; state: string; ended: number; remaining: number; done: boolean }>(res.stdout);
      expect(result).toMatchObject({ origin: id, state: "draining", remaining: 0, done: true });
      expect(result.ended).toBeGreaterThanOrEqual(before);
      // Progress was shown while it ran (stderr is no terminal here: one line per change).
      const progress = res.stderr.split("\n").filter((l) => l.startsWith(`draining ${id} at 10/s: `));
      expect(progress.length).toBeGreaterThan(1);
      expect(progress[0]).toMatch(/: \d+ ended, [1-9]\d* left/);
      // The clients really moved: none of the fleet is on the drained origin, all are back.
      await fleet.until(() => [...fleet.counts().values()].reduce((a, b) => a + b, 0) === 24, 30_000, "every client to be back");
      expect(fleet.counts().get(id)).toBeUndefined();

      const reactivated = await runCli(["activate", id], env);
      expect(reactivated.code).toBe(0);
    } finally {
      await fleet.close();
    }
  });

  it("--no-wait returns once the edge accepted the drain; --timeout bounds the wait with exit 1", async () => {
    const fleet = new Fleet(stack.edgeUrl);
    try {
      await fleet.open(12);
      await withTimeout(
        (async () => {
          while ((await poolView()).reduce((n, o) => n + o.sessions, 0) < 12) await new Promise((r) => setTimeout(r, 200));
        })(),
        15_000,
        "the edge to count the fleet",
      );
      const target = [...(await poolView())].sort((a, b) => b.sessions - a.sessions)[0];
      const id = target?.id ?? "";
      expect(target?.sessions ?? 0).toBeGreaterThan(1);
      // 0.1 session per second cannot end them all in 2 s.
      const timedOut = await runCli(["drain", id, "--rate", "0.1", "--timeout", "2", "--json"], env, 30_000);
      expect(timedOut.code).toBe(1);
      expect(timedOut.stderr).toMatch(new RegExp(`${id} still holds \\d+ sessions after 2 s; the drain goes on at the edge`));
      expect(parseJson<{ error: string }>(timedOut.stdout).error).toBe("drain_timeout"); // one JSON document

      // Ctrl-C while watching: exit 130, and the drain goes on at the edge.
      const watching = startCli(["drain", id, "--rate", "0.1"], env);
      await withTimeout(
        (async () => {
          while (!watching.stderr().includes(`draining ${id} at 0.1/s`)) await new Promise((r) => setTimeout(r, 50));
        })(),
        15_000,
        "the drain's first progress line",
      );
      watching.child.kill("SIGINT");
      const interrupted = await withTimeout(watching.done, 10_000, "drain to stop watching on SIGINT");
      expect(interrupted.code).toBe(130);
      expect(interrupted.stderr).toContain(`stopped watching: the drain of ${id} goes on at the edge`);
      expect((await poolView()).find((o) => o.id === id)?.state).toBe("draining");

      const noWait = await runCli(["drain", id, "--rate", "0.1", "--no-wait", "--json"], env);
      expect(noWait.code).toBe(0);
      expect(parseJson<{ state: string; done: boolean }>(noWait.stdout)).toMatchObject({ state: "draining", done: false });
      expect((await poolView()).find((o) => o.id === id)?.state).toBe("draining");
      expect((await runCli(["activate", id], env)).code).toBe(0);
    } finally {
      await fleet.close();
    }
  });
});
