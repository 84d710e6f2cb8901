import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalescedProgress } from './progress';

describe('coalescedProgress', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the first and the last update at once and at most one per interval in between', () => {
    const sent: number[] = [];
    const progress = coalescedProgress<{ loaded: number; total: number }>(
      (p) => sent.push(p.loaded),
      250,
      () => Date.now(),
    );
    for (let loaded = 1; loaded <= 3000; loaded++) {
      progress.update({ loaded, total: 3000 });
      if (loaded % 10 === 0) vi.advanceTimersByTime(1);
    }
    // 3000 updates over ~300 ms: the first, about one per 250 ms, and the last.
    expect(sent[0]).toBe(1);
    expect(sent.at(-1)).toBe(3000);
    expect(sent.length).toBeLessThanOrEqual(4);
    vi.advanceTimersByTime(1000);
    expect(sent.at(-1)).toBe(3000);
  });

  it('delivers a pending update after the interval, and flush sends it at once', () => {
    const sent: number[] = [];
    const progress = coalescedProgress<{ loaded: number; total: number }>(
      (p) => sent.push(p.loaded),
      250,
      () => Date.now(),
    );
    progress.update({ loaded: 1, total: 10 });
    progress.update({ loaded: 2, total: 10 });
    progress.update({ loaded: 3, total: 10 });
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(250);
    expect(sent).toEqual([1, 3]);
    progress.update({ loaded: 4, total: 10 });
    progress.flush();
    expect(sent).toEqual([1, 3, 4]);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([1, 3, 4]);
  });
});
