/**
 * The real Lightstreamer client through the edge under load, the way `edge-tlcp.test.ts`
 * "spreads 30 clients" uses it: rounds of clients on forced transports, each connects,
 * subscribes to the reference origins' clock and waits for 5 updates. It counts the
 * clients that never got there, the client's own retries (DISCONNECTED:WILL-RETRY), and
 * how the failed ones ended — the figures behind keeping the library's default retryDelay
 * in the tests (a value the library also uses as its stream-sensing timeout).
 *
 *   node tools/profile/tlcp-client-churn.ts [--retry-delay MS] [--burn N] [--rounds 8] [--clients 60] [--parallel 20]
 *
 * --retry-delay: the client's setRetryDelay (absent: the library's default, 4000 ms).
 * --burn: busy-loop processes beside the run, standing in for a loaded CI machine.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { LightstreamerClient, Subscription } from "lightstreamer-client-node";
import { startStack } from "../../infra/local/stack.ts";
import { toolArgs } from "./tool-args.ts";

const values = toolArgs(import.meta.url, {
  "retry-delay": { type: "string" },
  burn: { type: "string", default: "0" },
  rounds: { type: "string", default: "8" },
  clients: { type: "string", default: "60" },
  parallel: { type: "string", default: "20" },
});
const rounds = Number(values.rounds);
const clientsPerRound = Number(values.clients);
const parallel = Number(values.parallel);
const retryDelay = values["retry-delay"] === undefined ? undefined : Number(values["retry-delay"]);
const TRANSPORTS = ["WS-STREAMING", "HTTP-STREAMING", "HTTP-POLLING"] as const;
/** What one client may take to connect, subscribe and get its updates (the test's bound is 10 s per wait). */
const CLIENT_MS = 20_000;

interface Outcome {
  readonly ok: boolean;
  readonly retries: number;
  readonly ending: string;
}

/** One client's run, bounded: connected, subscribed, 5 clock updates, disconnected. */
function oneClient(url: string, transport: string): Promise<Outcome> {
  const client = new LightstreamerClient(url, "DEMO");
  client.connectionOptions.setForcedTransport(transport);
  client.connectionOptions.setCookieHandlingRequired(false);
  if (retryDelay !== undefined) client.connectionOptions.setRetryDelay(retryDelay);
  const statuses: string[] = [];
  const errors: string[] = [];
  return new Promise<Outcome>((resolve) => {
    let updates = 0;
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      client.disconnect();
      const retries = statuses.filter((s) => s === "DISCONNECTED:WILL-RETRY").length;
      resolve({ ok, retries, ending: ok ? "ok" : `${statuses.at(-1) ?? "no status"}${errors.length > 0 ? ` (${errors.join("; ")})` : ""}` });
    };
    const timer = setTimeout(() => finish(false), CLIENT_MS);
    client.addListener({
      onStatusChange: (status) => statuses.push(status),
      onServerError: (code, message) => errors.push(`${code} ${message}`),
    });
    const clock = new Subscription("MERGE", ["clock"], ["seq"]);
    clock.setRequestedSnapshot("no");
    clock.addListener({ onItemUpdate: () => ++updates === 5 && finish(true) });
    client.subscribe(clock);
    client.connect();
  });
}

const burners: ChildProcess[] = Array.from({ length: Number(values.burn) }, () =>
  spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }),
);
const stack = await startStack({ port: 0, originBasePort: 0, prebuilt: true, originCount: 3, originArgs: ["--tlcp-clock-ms", "50", "--tlcp-session-expiry-ms", "5000"] });
try {
  let failed = 0;
  let retries = 0;
  const endings = new Map<string, number>();
  for (let round = 1; round <= rounds; round++) {
    let next = 0;
    const outcomes: Outcome[] = [];
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < clientsPerRound) {
          const i = next++;
          outcomes.push(await oneClient(stack.edgeUrl, TRANSPORTS[i % TRANSPORTS.length] ?? "WS-STREAMING"));
        }
      }),
    );
    const roundFailed = outcomes.filter((o) => !o.ok);
    failed += roundFailed.length;
    retries += outcomes.reduce((sum, o) => sum + o.retries, 0);
    for (const o of roundFailed) endings.set(o.ending, (endings.get(o.ending) ?? 0) + 1);
    console.log(`round ${round}/${rounds}: ${outcomes.length - roundFailed.length} ok, ${roundFailed.length} failed, ${outcomes.reduce((s, o) => s + o.retries, 0)} client retries`);
  }
  console.log(`retryDelay ${retryDelay ?? "library default (4000)"} ms, ${burners.length} busy processes beside it:`);
  console.log(`  ${rounds * clientsPerRound} clients, ${failed} failed, ${retries} client retries`);
  for (const [ending, n] of endings) console.log(`  ${n} × ${ending}`);
} finally {
  await stack.close();
  for (const b of burners) b.kill();
}
