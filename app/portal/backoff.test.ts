import { describe, expect, it } from 'vitest';
import { ManualClock } from '../auth/clock';
import { mapWithConcurrency, withBackoff } from './backoff';

const throttled = Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' });
const isThrottle = (e: unknown) => (e as Error).name === 'TooManyRequestsException';

describe('withBackoff', () => {
  it('retries throttled calls with full-jitter exponential delays', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const got = await withBackoff(
      async () => {
        if (++calls < 4) throw throttled;
        return 'ok';
      },
      { clock, isRetryable: isThrottle, random: () => 0.5, baseMs: 100, capMs: 1000 },
    );
    expect(got).toBe('ok');
    expect(clock.sleeps).toEqual([50, 100, 200]);
  });

  it('caps the delay and gives up after maxAttempts', async () => {
    const clock = new ManualClock();
    await expect(
      withBackoff(
        async () => {
          throw throttled;
        },
        { clock, isRetryable: isThrottle, random: () => 0.999, baseMs: 100, capMs: 300, maxAttempts: 5 },
      ),
    ).rejects.toBe(throttled);
    expect(clock.sleeps).toEqual([99, 199, 299, 299]);
  });

  it('does not retry other errors', async () => {
    const clock = new ManualClock();
    const other = new Error('no');
    await expect(
      withBackoff(async () => Promise.reject(other), { clock, isRetryable: isThrottle }),
    ).rejects.toBe(other);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('mapWithConcurrency', () => {
  it('keeps order and never exceeds the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const got = await mapWithConcurrency([1, 2, 3, 4, 5, 6, 7, 8, 9], 4, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return n * 2;
    });
    expect(got).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(peak).toBe(4);
  });
});
