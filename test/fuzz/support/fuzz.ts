/**
 * The Node fuzz project (test/fuzz/*.test.ts) uses the same fast-check parameters as the
 * workerd one: one module, so a fixed seed and FUZZ_RUNS / FUZZ_SEED mean the same in both.
 */
export * from "../../unit/support/fuzz.ts";
