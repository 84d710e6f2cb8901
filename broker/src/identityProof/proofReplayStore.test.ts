import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors';
import { MemoryProofReplayStore } from './proofReplayStore';

describe('MemoryProofReplayStore', () => {
  it('claims a signature once until it expires', async () => {
    let now = 1_000;
    const store = new MemoryProofReplayStore(10, () => now);
    expect(await store.claim('a', new Date(2_000))).toBe(true);
    expect(await store.claim('a', new Date(2_000))).toBe(false);
    expect(await store.claim('b', new Date(2_000))).toBe(true);
    now = 2_000;
    // Past its window the proof is refused as too old before it gets here; the entry may go.
    expect(await store.claim('a', new Date(3_000))).toBe(true);
  });

  it('makes room from expired entries and never forgets a live one', async () => {
    let now = 0;
    const store = new MemoryProofReplayStore(2, () => now);
    await store.claim('old', new Date(10));
    await store.claim('live', new Date(1_000));
    now = 20;
    expect(await store.claim('new', new Date(1_000))).toBe(true);
    expect(store.size).toBe(2);
    expect(await store.claim('live', new Date(1_000))).toBe(false);
    const full = await store.claim('one-more', new Date(1_000)).catch((error: unknown) => error);
    expect(full).toBeInstanceOf(BrokerError);
    expect((full as BrokerError).code).toBe('Throttled');
    expect(await store.claim('live', new Date(1_000))).toBe(false);
    expect(await store.claim('new', new Date(1_000))).toBe(false);
  });
});
