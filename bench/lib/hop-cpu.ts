/**
 * CPU the hop's processes spend per operation: their user + system time (all threads,
 * /proc) over a measured window ÷ the operations completed in it. Unlike a rate, it hardly
 * moves when something else shares the machine's two cores, and it is what Workers bill
 * for (CPU, not wall-clock). A column without processes of its own (`direct`) or off
 * Linux reports nothing.
 */
import { cpuMs } from "./procs.ts";
import type { Metric } from "../scenario.ts";
import type { Target } from "../targets/target.ts";

export interface HopCpu {
  /** Starts (or restarts) the window now. */
  start(): void;
  /** The window's CPU ÷ `ops` as a metric, or nothing when it could not be read. */
  perOp(ops: number, label: string): Metric[];
}

export function hopCpu(target: Target): HopCpu {
  const pids = target.pids?.() ?? [];
  let from: number | undefined;
  return {
    start() {
      from = cpuMs(pids);
    },
    perOp(ops, label) {
      const to = cpuMs(pids);
      if (from === undefined || to === undefined || ops <= 0) return [];
      return [{ kind: "rate", key: "cpu", label, unit: "ms", value: (to - from) / ops }];
    },
  };
}
