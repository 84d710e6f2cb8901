import { describe, expect, it } from 'vitest';
import { FaultyLink, seededRandom } from './faults';

function run(link: FaultyLink, count: number): void {
  for (let i = 0; i < count; i++) link.send(Buffer.from(String(i)));
  link.close();
}

function collect(
  options: ConstructorParameters<typeof FaultyLink>[0],
  direction: 'toClient' | 'toAgent' = 'toClient',
) {
  const delivered: number[] = [];
  const link = new FaultyLink(options, direction, (frame) => delivered.push(Number(frame.toString())));
  return { link, delivered };
}

describe('fault injection', () => {
  it('passes every frame untouched when off', () => {
    const { link, delivered } = collect(undefined);
    run(link, 100);
    expect(delivered).toEqual([...Array(100).keys()]);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = collect({ drop: 0.3, seed: 7 });
    const b = collect({ drop: 0.3, seed: 7 });
    const c = collect({ drop: 0.3, seed: 8 });
    for (const { link } of [a, b, c]) run(link, 500);
    expect(a.delivered).toEqual(b.delivered);
    expect(a.delivered).not.toEqual(c.delivered);
    expect(seededRandom(1)()).toBe(seededRandom(1)());
  });

  it('drops, duplicates and reorders about the given fractions', () => {
    const { link, delivered } = collect({ drop: 0.1, duplicate: 0.1, reorder: 0.1, seed: 3 });
    for (let i = 0; i < 10_000; i++) link.send(Buffer.from(String(i)));
    const { counts } = link;
    link.close();
    expect(counts.dropped).toBeGreaterThan(800);
    expect(counts.dropped).toBeLessThan(1200);
    expect(counts.duplicated).toBeGreaterThan(600);
    expect(counts.reordered).toBeGreaterThan(600);
    const inversions = delivered.filter((n, i) => i > 0 && n < delivered[i - 1]!).length;
    expect(inversions).toBeGreaterThan(500);
    expect(new Set(delivered).size).toBeLessThan(10_000);
  });

  it('applies only to the configured direction', () => {
    const { link, delivered } = collect({ drop: 1, direction: 'toAgent' }, 'toClient');
    run(link, 10);
    expect(delivered).toHaveLength(10);
    const other = collect({ drop: 1, direction: 'toAgent' }, 'toAgent');
    run(other.link, 10);
    expect(other.delivered).toHaveLength(0);
  });

  it('delays frames and loses held frames when the link closes', async () => {
    const { link, delivered } = collect({ delay: 1, delayMs: 5 });
    link.send(Buffer.from('1'));
    expect(delivered).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(delivered).toEqual([1]);
    link.send(Buffer.from('2'));
    link.close();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(delivered).toEqual([1]);
  });
});
