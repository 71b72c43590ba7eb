/**
 * Ends a test run with one plain line, `tests: N passed, N failed, N skipped`, that any
 * CI log reader understands (vitest's own summary is coloured and spread over lines).
 *
 * "skipped" means a test someone marked to skip (it.skip, it.todo, a filter), never a
 * test that could not run because its file failed: when a beforeAll throws (a missing
 * browser, a stack that would not start) vitest marks the file's tests skipped, and they
 * are counted as failed here. A file that failed without a failing test (it did not load,
 * or an afterAll threw) counts as one failure, and the failed files are named.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const failedFiles: string[] = [];
    for (const module of testModules) {
      const fileFailed = module.state() === "failed";
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        // Marked skip/todo (or left out by a filter, which vitest marks skip): skipped.
        const meantToRun = test.options.mode === "run" || test.options.mode === "only";
        if (state === "passed") passed += 1;
        else if (state === "failed" || (fileFailed && meantToRun)) failedHere += 1;
        else skipped += 1;
      }
      if (fileFailed) {
        failedFiles.push(module.relativeModuleId);
        failedHere = Math.max(failedHere, 1);
      }
      failed += failedHere;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    if (failedFiles.length > 0) process.stdout.write(`failed files: ${failedFiles.join(", ")}\n`);
  }
}
