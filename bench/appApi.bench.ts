/**
 * App API figures: the cost of the e2e/web host's WebSocket hop next to a
 * direct call into the same API object (what Electron's IPC replaces), and a
 * durable settings save (temp file + fsync + rename) next to a plain write.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { dispatchCall } from '../app/api/dispatch';
import { createAppApi } from '../app/createAppApi';
import { startHost } from '../e2e/host/server';
import type { ServerMessage } from '../e2e/host/protocol';
import type { BenchRow } from './types';

const CALLS = 2000;
// Calls are timed in batches: a single direct call is below the timer's useful resolution.
const BATCH = 100;
const SAVES = 100;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Per-call times, each the mean of a batch of sequential calls. */
async function timeBatched(count: number, run: (index: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let batch = 0; batch < count / BATCH; batch++) {
    const start = performance.now();
    for (let index = 0; index < BATCH; index++) await run(batch * BATCH + index);
    times.push((performance.now() - start) / BATCH);
  }
  return times;
}

async function timeEach(count: number, run: (index: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const start = performance.now();
    await run(index);
    times.push(performance.now() - start);
  }
  return times;
}

export default async function appApiBench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-api-bench-'));
  const api = createAppApi({ dataDir: path.join(dir, 'direct'), env: {}, mode: 'web' });
  const host = await startHost({ dataDir: path.join(dir, 'host'), env: {}, log: () => {} });
  try {
    // Direct: what main/ does per IPC message, minus Electron's own IPC.
    const direct = median(
      await timeBatched(CALLS, () => dispatchCall(api.handlers, 'getAppInfo', undefined)),
    );

    const hostUrl = new URL(host.url);
    const socket = new WebSocket(`ws://${hostUrl.host}/__roleshell/ws?token=${host.token}`, {
      headers: { Origin: host.origin },
    });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const waiting = new Map<number, () => void>();
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as ServerMessage;
      if (message.type === 'result') waiting.get(message.id)?.();
    });
    const overSocket = median(
      await timeBatched(
        CALLS,
        (id) =>
          new Promise<void>((resolve) => {
            waiting.set(id, resolve);
            socket.send(JSON.stringify({ type: 'call', id, name: 'getAppInfo', input: undefined }));
          }),
      ),
    );
    socket.close();

    const save = median(
      await timeEach(SAVES, (index) =>
        api.handlers.saveSettings(
          { regions: [index % 2 ? 'eu-west-1' : 'us-east-1'] },
          { connectionId: 'bench' },
        ),
      ),
    );
    const plainFile = path.join(dir, 'plain.json');
    const body = JSON.stringify({ regions: ['eu-west-1'], padding: 'x'.repeat(200) });
    const plain = median(await timeEach(SAVES, () => writeFile(plainFile, body)));

    return [
      {
        figure: 'getAppInfo, direct dispatch (median of batches)',
        value: round(direct * 1000, 2),
        unit: 'µs',
        comparedTo: 'floor for any transport',
      },
      {
        figure: 'getAppInfo over the host WebSocket (median of batches)',
        value: round(overSocket * 1000, 1),
        unit: 'µs',
        comparedTo: `${round(overSocket / direct, 1)}× direct dispatch`,
      },
      {
        figure: 'saveSettings, durable (median)',
        value: round(save, 3),
        unit: 'ms',
        comparedTo: `${round(save / plain, 1)}× a plain writeFile (${round(plain, 3)} ms, no fsync/rename)`,
      },
    ];
  } finally {
    await host.close();
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
}
