/**
 * Exit codes (README "CLI"): scripts branch on these, so they never change meaning.
 *   0  the operation succeeded
 *   1  the operation failed: the edge refused it (unknown origin or pool, bad input), a
 *      token did not verify, a drain did not finish within --timeout
 *   2  usage error: unknown command or flag, missing argument
 *   3  the edge could not be reached, or refused admin access (wrong token: 401; not an
 *      admin host: 403)
 *   130 interrupted with Ctrl-C while waiting for the edge or watching a drain (the drain
 *       goes on at the edge); `tail` stopped with Ctrl-C exits 0
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An expected failure: printed as one clear sentence, then the process exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: ExitCode;
  /** The edge's stable error code, when the edge said why. */
  readonly code: string;

  constructor(exitCode: ExitCode, code: string, message: string) {
    super(message);
    this.exitCode = exitCode;
    this.code = code;
  }
}

export function usageError(message: string): CliError {
  return new CliError(EXIT.usage, "usage", message);
}
