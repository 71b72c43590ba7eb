/**
 * HTTP-streaming per-event delay: create sessions, open one SSE stream each
 * (`/session/:id/stream?interval_ms=N&count=M`, a CR request carrying the target's
 * affinity), and for every tick take receive time − the tick's `ts` (the origin's
 * `Date.now()` when it wrote the event; same machine clock). The first `warmup` ticks of
 * each stream are not counted. `ts` is whole milliseconds, so every delay is overstated by
 * 0–1 ms (0.5 ms on average) — equally in every column.
 *
 * The streams open all at once and end all at once, so some ticks share the hop with the
 * admission of streams still opening, or with the end of streams already over (in the
 * edge, a leg's end is a write in its session object, on workerd's one thread locally).
 * `delay` counts every tick past the warm-up; `steady-delay` only the ticks the origin
 * wrote while every stream was open — after the last stream's answer head came and before
 * the first stream's last tick — so a tail that comes from the opening or the closing
 * burst shows as the difference of the two.
 */
import { ErrorLog, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { summarize } from "../stats.ts";
import { calibrate, epochMs, monoMs } from "../lib/clock.ts";
import { keepAliveAgent, openEventStream, type EventStream } from "../lib/http.ts";
import { createSession, type SessionRef } from "../lib/session.ts";
import { errorMessage, inParallel } from "../lib/time.ts";
import type { Target } from "../targets/target.ts";

export interface HttpStreamParams {
  readonly streams: number;
  readonly events: number;
  readonly warmup: number;
  readonly intervalMs: number;
  /** Longest wait for a session or a stream's response head. */
  readonly timeoutMs: number;
}

export const HTTP_STREAM_PARAMS: Record<Mode, HttpStreamParams> = {
  full: { streams: 100, events: 100, warmup: 5, intervalMs: 20, timeoutMs: 5_000 },
  quick: { streams: 5, events: 40, warmup: 5, intervalMs: 20, timeoutMs: 5_000 },
};

export const httpStream: Scenario = {
  name: "http-stream",
  title: "HTTP-stream (SSE) per-event delay",
  prepare(mode): PreparedScenario {
    const p = HTTP_STREAM_PARAMS[mode];
    return {
      params: { ...p },
      summary: `${p.streams} streams × ${p.events} events (+${p.warmup} warm-up each), interval_ms=${p.intervalMs}`,
      run: (target, progress) => runHttpStream(target, p, progress),
    };
  },
};

type Tick = { seq: number; ts: number; session: string };

function asTick(data: unknown): Tick | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (d.type !== "tick" || typeof d.seq !== "number" || typeof d.ts !== "number" || typeof d.session !== "string") return undefined;
  return { seq: d.seq, ts: d.ts, session: d.session };
}

async function runHttpStream(target: Target, p: HttpStreamParams, progress: (line: string) => void): Promise<TargetResult> {
  const errors = new ErrorLog();
  // Every counted tick, by when the origin wrote it (`ts`): the steady window is known only
  // once every stream is over.
  const timed: { ts: number; delay: number }[] = [];
  let allOpenAt = Number.POSITIVE_INFINITY;
  // The origin's clock when it wrote the last tick of the stream that ended first.
  let firstLastTickAt = Number.POSITIVE_INFINITY;
  const started = monoMs();
  const agent = keepAliveAgent(p.streams + 4);
  const perStream = p.warmup + p.events;
  // Ticks are skipped (not queued) for a peer that falls behind, so a stream may need longer.
  const streamMs = perStream * p.intervalMs * 3 + p.timeoutMs;
  let gaps = 0;

  try {
    const sessions: SessionRef[] = [];
    let next = 0;
    await inParallel(4, async () => {
      while (next < p.streams) {
        next += 1;
        const created = await createSession(target, agent, p.timeoutMs);
        if (created.ok) sessions.push(created.session);
        else errors.add(created.reason);
      }
    });
    progress(`${target.name}: ${sessions.length}/${p.streams} sessions, opening streams`);
    calibrate();

    let opening = sessions.length;
    const opened = () => {
      opening -= 1;
      if (opening === 0) allOpenAt = epochMs();
    };
    await Promise.all(
      sessions.map(async (s) => {
        let stream: EventStream;
        const url = `${s.affinity.base}/session/${s.id}/stream?interval_ms=${p.intervalMs}&count=${perStream}`;
        try {
          stream = await openEventStream(url, { headers: { ...s.affinity.headers }, agent, timeoutMs: p.timeoutMs });
        } catch (err) {
          errors.add(`stream: ${errorMessage(err)}`);
          return;
        } finally {
          opened();
        }
        if (stream.status !== 200) {
          errors.add(`stream: HTTP ${stream.status}`);
          stream.stop();
          return;
        }
        let lastSeq = 0;
        let received = 0;
        const how = await stream.consume((event) => {
          const tick = asTick(event.data);
          if (tick === undefined) return "more";
          if (tick.session !== s.id) errors.add("stream: tick of another session");
          if (tick.seq !== lastSeq + 1) gaps += 1;
          lastSeq = tick.seq;
          received += 1;
          if (tick.seq > p.warmup) timed.push({ ts: tick.ts, delay: event.receivedAt - tick.ts });
          if (tick.seq < perStream) return "more";
          firstLastTickAt = Math.min(firstLastTickAt, tick.ts);
          return "done";
        }, streamMs);
        stream.stop();
        if (how !== "done") errors.add(`stream ${how} after ${received}/${perStream} events`);
      }),
    );
    if (gaps > 0) errors.add(`${gaps} sequence gaps (the origin skipped ticks for a slow reader)`);
  } finally {
    agent.destroy();
  }
  const delays = timed.map((t) => t.delay);
  const steadyDelays = timed.filter((t) => t.ts >= allOpenAt && t.ts < firstLastTickAt).map((t) => t.delay);
  progress(`${target.name}: ${delays.length} events measured, ${steadyDelays.length} of them written while every stream was open`);

  return {
    target: target.name,
    metrics: [
      { kind: "latency", key: "delay", label: "event delay", summary: summarize(delays) },
      { kind: "latency", key: "steady-delay", label: "event delay, every stream open", summary: summarize(steadyDelays) },
    ],
    errorCount: errors.count,
    errors: errors.messages(),
    elapsedMs: monoMs() - started,
  };
}
