/** What the numbers were measured on, printed above the table and included in --json. */
import { cpus, loadavg, platform, release, totalmem } from "node:os";

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  readonly memoryGiB: number;
  /** 1-minute load average when the run started (other work on the box skews results). */
  readonly loadAvg1m: number;
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? "unknown",
    node: process.version,
    platform: `${platform()} ${release()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAvg1m: loadavg()[0] ?? Number.NaN,
  };
}

export function currentLoad(): number {
  return loadavg()[0] ?? Number.NaN;
}
