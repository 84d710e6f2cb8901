/**
 * Exponential backoff with full jitter (sleep a random time between 0 and
 * min(cap, base·2^attempt)): many parallel callers hitting IdC's portal rate
 * limit spread out instead of retrying in lock-step.
 */
import type { Clock } from '../auth/clock';

export interface BackoffOptions {
  clock: Clock;
  isRetryable: (error: unknown) => boolean;
  /** 0 ≤ random() < 1; injectable so tests are deterministic. */
  random?: () => number;
  baseMs?: number;
  capMs?: number;
  maxAttempts?: number;
  signal?: AbortSignal;
  onRetry?: (attempt: number, delayMs: number) => void;
}

export async function withBackoff<T>(fn: () => Promise<T>, options: BackoffOptions): Promise<T> {
  const {
    clock,
    isRetryable,
    random = Math.random,
    baseMs = 250,
    capMs = 20_000,
    maxAttempts = 10,
  } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt + 1 >= maxAttempts || !isRetryable(error)) throw error;
      const delay = Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
      options.onRetry?.(attempt + 1, delay);
      await clock.sleep(delay, options.signal);
    }
  }
}

// One bounded-concurrency map for the launcher and the broker (the broker bundles it on its own).
export { mapWithConcurrency } from '../../broker/src/concurrency';

/** At most `limit` calls of `run` in flight at once, however many callers share it; the rest wait in order. */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
