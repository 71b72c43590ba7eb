// CLI for the reference origin:
//   node infra/origin/main.ts --id o1 --listen combined=127.0.0.1:9001 [flags]  (see --help)
// stdout carries JSON lines only: one {"event":"ready",...} once every listener is bound,
// then one {"event":"request",...} per handled request (and connection_rejected events).
// Bad flags exit 2; SIGINT/SIGTERM close everything and exit 0.

import { flagForField, parseCliArgs, USAGE, type CliResult } from "./cli-args.ts";
import { OptionError } from "./options.ts";
import { startOrigin, type RunningOrigin } from "./origin.ts";

/** If a clean close hangs (a peer that never lets go), exit anyway. */
const FORCE_EXIT_MS = 3_000;

function printLine(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function main(argv: readonly string[]): Promise<void> {
  // A reader that went away (closed pipe) must not crash the origin mid-request.
  process.stdout.on("error", () => {});

  let parsed: CliResult;
  try {
    parsed = parseCliArgs(argv);
  } catch (error) {
    exitBadFlags(error);
  }
  if (parsed.kind === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const id = parsed.options.id;

  let origin: RunningOrigin;
  try {
    origin = await startOrigin({
      ...parsed.options,
      onRequest(entry) {
        const { method, path, client, via, status, ...rest } = entry;
        printLine({ event: "request", id, method, path, client, via, status, ...rest });
      },
      onConnectionRejected(rejection) {
        printLine({
          event: "connection_rejected",
          id,
          listener: rejection.listener.kind,
          peer: rejection.peer,
          reason: rejection.reason,
        });
      },
    });
  } catch (error) {
    if (error instanceof OptionError) exitBadFlags(error);
    process.stderr.write(`origin ${id}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }

  printLine({
    event: "ready",
    id,
    listeners: origin.listeners.map(({ kind, url, proxy }) => ({ kind, url, proxy })),
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(0); // second Ctrl-C: don't wait
    }
    stopping = true;
    process.stderr.write(`origin ${id}: ${signal}, closing\n`);
    setTimeout(() => {
      process.stderr.write(`origin ${id}: close took over ${FORCE_EXIT_MS} ms, exiting anyway\n`);
      process.exit(0);
    }, FORCE_EXIT_MS).unref();
    origin.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`origin ${id}: error while closing: ${String(error)}\n`);
        process.exit(0);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

function exitBadFlags(error: unknown): never {
  if (error instanceof OptionError) {
    const flag = flagForField(error.field);
    const detail = error.message.slice(error.field.length + 2);
    process.stderr.write(`origin: ${flag}: ${detail}\n(run with --help for usage)\n`);
  } else {
    process.stderr.write(`origin: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(2);
}

await main(process.argv.slice(2));
