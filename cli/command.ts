/** What every CLI command is: a name, its help, its flags, and a run that returns an exit code. */
import type { ParseArgsConfig } from "node:util";
import type { AdminClient } from "./client.ts";
import { usageError, type ExitCode } from "./errors.ts";

export type Options = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | undefined>;

export interface CommandContext {
  readonly client: AdminClient;
  /** `--pool`, default "default". */
  readonly pool: string;
  readonly json: boolean;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: long-running commands stop cleanly. */
  readonly signal: AbortSignal;
  /** Result lines (stdout). */
  out(text: string): void;
  /** Progress and notes for people (stderr), so stdout stays parseable. */
  note(text: string): void;
  /** Rewrites the current progress line on a terminal; a new line otherwise. */
  progress(text: string): void;
}

export interface Command {
  readonly name: string;
  /** One line for the overview. */
  readonly summary: string;
  /** Full `--help` text, usage line first. */
  readonly help: string;
  readonly options: Options;
  run(positionals: readonly string[], values: Values, ctx: CommandContext): Promise<ExitCode>;
}

/** Flags every command takes (README "CLI"). */
export const GLOBAL_OPTIONS: Options = {
  url: { type: "string" },
  token: { type: "string" },
  pool: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

export const GLOBAL_HELP = `common options:
  --url URL      the edge (default $PUSH_EDGE_URL, else http://127.0.0.1:8787)
  --token T      admin token (default $PUSH_EDGE_ADMIN_TOKEN; for the default URL only,
                 the local stack's dev-admin-token-local)
  --pool NAME    pool the origin belongs to (default "default")
  --json         machine-readable output on stdout
  -h, --help     help for the command`;

/** A flag's number, or a usage error naming the flag. */
export function numberFlag(values: Values, flag: string, fallback: number, min: number): number {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n) || n < min) {
    throw usageError(`--${flag} must be a number >= ${min} (got ${JSON.stringify(raw)})`);
  }
  return n;
}

export function onePositional(positionals: readonly string[], what: string): string {
  if (positionals.length === 0 || positionals[0] === "") throw usageError(`missing ${what}`);
  if (positionals.length > 1) throw usageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  return positionals[0] as string;
}

/** A flag's positive number (> 0), undefined when absent, or a usage error naming the flag. */
export function positiveFlag(values: Values, flag: string): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw usageError(`--${flag} must be a number > 0 (got ${JSON.stringify(raw)})`);
  }
  return n;
}
