/**
 * fast-check parameters for the fuzz properties (test/unit/fuzz-*.test.ts in workerd, and
 * test/fuzz/*.test.ts in Node through a re-export): a fixed seed and the property's own run count in `npm test`; FUZZ_RUNS / FUZZ_SEED (vitest.config.ts)
 * override both in `npm run fuzz`. A failure prints the seed and the shrunk input.
 */
import type fc from "fast-check";
import { inject, vi } from "vitest";

declare module "vitest" {
  interface ProvidedContext {
    fuzz: { runs: number; seed: number };
  }
}

/**
 * Properties run thousands of cases: on a busy machine that is seconds, not the default
 * 5 s budget of a unit test — and under `npm run fuzz`, minutes. Every fuzz file imports
 * this module, so the budget is set for those files only.
 */
vi.setConfig({ testTimeout: inject("fuzz").runs > 0 ? 3_600_000 : 120_000 });

/** The seed every property uses in `npm test`: the same cases on every run and machine. */
export const FIXED_SEED = 0x5eed_2026;

/**
 * `runs` cases in `npm test`; FUZZ_RUNS under `npm run fuzz`, at most `maxFuzzRuns` for a
 * property whose every case is expensive (a 64 KiB payload, say).
 */
export function fuzzParams<T>(runs: number, maxFuzzRuns = Number.POSITIVE_INFINITY): fc.Parameters<T> {
  const given = inject("fuzz");
  return {
    numRuns: given.runs > 0 ? Math.min(given.runs, Math.max(runs, maxFuzzRuns)) : runs,
    seed: given.seed !== 0 ? given.seed : FIXED_SEED,
  };
}
