/**
 * The columns run.ts starts besides direct, the classic balancers and `edge`: the two
 * platform floors and the edge in `relay: "object"` mode, each in a workerd of its own in
 * front of the run's reference origins. A column that cannot start is recorded as
 * unavailable with the reason (e.g. an edge build without the `relay` pool setting) and
 * the run goes on without it.
 */
import { startStack } from "../../infra/local/stack.ts";
import { edgeColumn, edgeTarget } from "../targets/edge.ts";
import { floorTarget } from "../targets/floors.ts";
import type { Target } from "../targets/target.ts";
import { startFloor } from "./floor-runner.ts";
import { childPids, pinProcess } from "./procs.ts";
import { errorMessage } from "./time.ts";

export interface ColumnContext {
  readonly wanted: ReadonlySet<string>;
  readonly origins: ReadonlyArray<{ id: string; url: string }>;
  readonly cpu: number | undefined;
  readonly log: (line: string) => void;
  readonly progress: (line: string) => void;
  /** Where each started column's stop goes (run.ts closes them all at the end). */
  readonly closers: Array<() => Promise<void>>;
  readonly unavailable: string[];
}

function pin(pids: readonly number[], cpu: number | undefined): void {
  if (cpu !== undefined) for (const pid of pids) pinProcess(pid, cpu);
}

export async function startFloorColumns(ctx: ColumnContext): Promise<Target[]> {
  const targets: Target[] = [];
  for (const kind of ["worker", "object"] as const) {
    const name = `floor-${kind}`;
    if (!ctx.wanted.has(name)) continue;
    try {
      const floor = await startFloor(kind, ctx.origins, { log: ctx.log });
      ctx.closers.push(() => floor.close());
      pin(floor.pids, ctx.cpu);
      targets.push(floorTarget(floor));
      ctx.progress(`${name} ready: ${floor.url} (workerd ${floor.pids.join(",") || "pid unknown"})`);
    } catch (err) {
      ctx.unavailable.push(`${name}: did not start (${errorMessage(err)})`);
    }
  }
  return targets;
}

/** The edge with `relay: "object"` in front of the same origins (the bundle is built by now). */
export async function startEdgeObjectColumn(ctx: ColumnContext): Promise<Target | undefined> {
  if (!ctx.wanted.has("edge-object")) return undefined;
  const before = new Set(childPids("workerd"));
  try {
    const stack = await startStack({ port: 0, origins: ctx.origins, poolSettings: edgeColumn("object").settings, prebuilt: true, log: ctx.log });
    ctx.closers.push(() => stack.close());
    const pids = childPids("workerd").filter((p) => !before.has(p));
    pin(pids, ctx.cpu);
    ctx.progress(`edge (relay: object) ready: ${stack.edgeUrl}`);
    return edgeTarget(stack.edgeUrl, () => pids, "object");
  } catch (err) {
    ctx.unavailable.push(`edge-object: did not start (${errorMessage(err)})`);
    return undefined;
  }
}
