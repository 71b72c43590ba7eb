/**
 * What every scenario module provides, and what it measures. A scenario is prepared once
 * for a mode (full or quick) and then run against each target in turn; its results are
 * plain data, so the report and the JSON output need no scenario-specific code.
 */
import type { Summary } from "./stats.ts";
import type { Target } from "./targets/target.ts";

export type Mode = "full" | "quick";

export type Metric =
  | { readonly kind: "latency"; readonly key: string; readonly label: string; readonly summary: Summary }
  | { readonly kind: "rate"; readonly key: string; readonly label: string; readonly unit: string; readonly value: number };

export interface TargetResult {
  readonly target: string;
  readonly metrics: readonly Metric[];
  /** Operations that failed (bad status, timeout, closed socket...). */
  readonly errorCount: number;
  /** The first few distinct error messages. */
  readonly errors: readonly string[];
  readonly elapsedMs: number;
}

export interface PreparedScenario {
  /** Parameters as numbers, for --json. */
  readonly params: Readonly<Record<string, number>>;
  /** Parameters in one human line, for the header. */
  readonly summary: string;
  run(target: Target, progress: (line: string) => void): Promise<TargetResult>;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  prepare(mode: Mode): PreparedScenario;
}

/** Counts errors and keeps the first few distinct messages. */
export class ErrorLog {
  readonly #messages = new Map<string, number>();
  count = 0;

  add(message: string): void {
    this.count += 1;
    if (this.#messages.size < 5 || this.#messages.has(message)) {
      this.#messages.set(message, (this.#messages.get(message) ?? 0) + 1);
    }
  }

  messages(): string[] {
    return [...this.#messages].map(([m, n]) => (n > 1 ? `${m} (×${n})` : m));
  }
}
