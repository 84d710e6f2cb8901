import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttlCache';

describe('TtlCache', () => {
  it('expires entries and reports each one that leaves', () => {
    let clock = 0;
    const removed: string[] = [];
    const cache = new TtlCache<string>(
      2,
      () => clock,
      (value) => removed.push(value),
    );
    cache.set('a', 'A', 100);
    cache.set('b', 'B', 200);
    expect(cache.get('a')).toBe('A');
    clock = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(removed).toEqual(['A']);
    cache.set('c', 'C', 300);
    cache.set('d', 'D', 300); // over capacity: the oldest (b) goes
    expect(cache.get('b')).toBeUndefined();
    expect(removed).toEqual(['A', 'B']);
    cache.set('c', 'C2', 400); // replaced
    expect(removed).toEqual(['A', 'B', 'C']);
    cache.set('e', 'E', 50); // already expired: never stored
    expect(cache.get('e')).toBeUndefined();
    expect(removed).toEqual(['A', 'B', 'C', 'E']);
    expect(cache.size).toBe(2);
  });
});
