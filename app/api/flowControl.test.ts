import { afterEach, describe, expect, it, vi } from 'vitest';
import { AckBatcher, FlowController, OutputBatcher } from './flowControl';

function controller(high = 100, low = 10) {
  const calls: string[] = [];
  const flow = new FlowController({
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
    highWatermark: high,
    lowWatermark: low,
  });
  return { flow, calls };
}

describe('FlowController', () => {
  it('pauses once above the high watermark and resumes once below the low one', () => {
    const { flow, calls } = controller();
    flow.sent(60);
    flow.sent(40);
    expect(calls).toEqual([]); // exactly at the watermark is not above it
    flow.sent(1);
    flow.sent(500);
    expect(calls).toEqual(['pause']);
    expect(flow.isPaused).toBe(true);
    flow.acknowledge(500);
    expect(calls).toEqual(['pause']); // 101 left: still above the low watermark
    flow.acknowledge(92);
    expect(calls).toEqual(['pause', 'resume']);
    expect(flow.pending).toBe(9);
    flow.acknowledge(5);
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('never goes negative, and ignores nonsense acknowledgements', () => {
    const { flow, calls } = controller();
    flow.sent(20);
    flow.acknowledge(1000);
    expect(flow.pending).toBe(0);
    flow.acknowledge(-50);
    flow.acknowledge(Number.NaN);
    expect(flow.pending).toBe(0);
    // After over-acknowledging, the next flood still pauses at the same point.
    flow.sent(101);
    expect(calls).toEqual(['pause']);
  });

  it('reset on reattach forgets what the old renderer owed and resumes a paused source', () => {
    const { flow, calls } = controller();
    flow.sent(1000);
    flow.reset();
    expect(flow.pending).toBe(0);
    expect(calls).toEqual(['pause', 'resume']);
    flow.reset();
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('refuses watermarks the wrong way round', () => {
    expect(
      () => new FlowController({ pause() {}, resume() {}, highWatermark: 5, lowWatermark: 5 }),
    ).toThrow();
  });
});

describe('AckBatcher', () => {
  it('acknowledges in batches of at least the batch size, and flushes the rest on demand', () => {
    const acks: number[] = [];
    const batcher = new AckBatcher((bytes) => acks.push(bytes), 100);
    batcher.onWritten(40);
    batcher.onWritten(40);
    expect(acks).toEqual([]);
    batcher.onWritten(30);
    expect(acks).toEqual([110]);
    batcher.onWritten(5);
    batcher.flush();
    batcher.flush();
    expect(acks).toEqual([110, 5]);
  });
});

describe('OutputBatcher', () => {
  afterEach(() => vi.useRealTimers());

  it('sends the first output after a quiet spell at once, and joins what follows within the delay, in order', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const batcher = new OutputBatcher((data) => out.push(Buffer.from(data).toString()), 5, 1000);
    batcher.push(Buffer.from('ab'));
    expect(out).toEqual(['ab']); // an echo or a prompt does not wait for a batch
    batcher.push(Buffer.from('cd'));
    batcher.push(Buffer.from('ef'));
    expect(out).toEqual(['ab']);
    vi.advanceTimersByTime(5);
    expect(out).toEqual(['ab', 'cdef']);
    batcher.push(Buffer.from('g')); // the window is open again after a batch went out
    expect(out).toEqual(['ab', 'cdef']);
    vi.advanceTimersByTime(5);
    expect(out).toEqual(['ab', 'cdef', 'g']);
    vi.advanceTimersByTime(5); // a window with nothing in it closes
    batcher.push(Buffer.from('h'));
    expect(out).toEqual(['ab', 'cdef', 'g', 'h']);
  });

  it('sends at once when the size limit is reached, and drops pending output on dispose', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const batcher = new OutputBatcher((data) => out.push(Buffer.from(data).toString()), 5, 4);
    batcher.push(Buffer.from('a'));
    batcher.push(Buffer.from('bc'));
    batcher.push(Buffer.from('defg'));
    expect(out).toEqual(['a', 'bcdefg']);
    batcher.push(Buffer.from('x'));
    batcher.dispose();
    vi.advanceTimersByTime(10);
    expect(out).toEqual(['a', 'bcdefg']);
  });
});
