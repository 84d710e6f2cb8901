import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { streamAuditSink, type AuditRecord } from './audit';

const record: AuditRecord = {
  audit: 'roleshell-broker',
  time: '2026-01-30T10:15:00.000Z',
  requestId: 'r1',
  action: 'startSession',
  outcome: 'allowed',
  user: 'alice',
};

describe('streamAuditSink', () => {
  it('writes each record as one JSON line', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const sink = streamAuditSink(stream);
    await sink.write(record);
    await sink.write({ ...record, outcome: 'started', sessionId: 'alice-0' });
    const lines = chunks.join('').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line) as AuditRecord)).toEqual([
      record,
      { ...record, outcome: 'started', sessionId: 'alice-0' },
    ]);
  });

  it('rejects when the stream cannot take the record', async () => {
    const broken = new Writable({ write: (_chunk, _encoding, callback) => callback(new Error('disk full')) });
    broken.on('error', () => {});
    await expect(streamAuditSink(broken).write(record)).rejects.toThrow('disk full');
  });
});
