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

  it('joins chunks that arrive within the delay into one, in order', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const batcher = new OutputBatcher((data) => out.push(Buffer.from(data).toString()), 5, 1000);
    batcher.push(Buffer.from('ab'));
    batcher.push(Buffer.from('cd'));
    expect(out).toEqual([]);
    vi.advanceTimersByTime(5);
    expect(out).toEqual(['abcd']);
    batcher.push(Buffer.from('e'));
    vi.advanceTimersByTime(5);
    expect(out).toEqual(['abcd', 'e']);
  });

  it('sends at once when the size limit is reached, and drops pending output on dispose', () => {
    vi.useFakeTimers();
    const out: string[] = [];
    const batcher = new OutputBatcher((data) => out.push(Buffer.from(data).toString()), 5, 4);
    batcher.push(Buffer.from('abcdef'));
    expect(out).toEqual(['abcdef']);
    batcher.push(Buffer.from('x'));
    batcher.dispose();
    vi.advanceTimersByTime(10);
    expect(out).toEqual(['abcdef']);
  });
});
