/** Bounded waits: every await on the network in the bench goes through one of these. */

export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
}

/** Rejects with a TimeoutError naming `what` after `ms`. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `worker(i)` for i in [0, workers) concurrently; resolves when all have finished. */
export async function inParallel(workers: number, worker: (index: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
