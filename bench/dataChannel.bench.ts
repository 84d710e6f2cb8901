/**
 * Data-channel throughput: a large shell output (`seq`, ~11.5 MB after the
 * pty's \r\n) read through the sandbox agent and the built-in client, side by
 * side with the same output read straight from a local pty, as a ratio; plus
 * the same through 10 % injected loss, duplication and reordering.
 */
import * as pty from 'node-pty';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FaultOptions } from '../sandbox/src/dataChannel';
import { startDataChannelServer } from '../sandbox/src/dataChannel/fixtures/harness';
import type { BenchRow } from './types';

const LINES = 1_400_000;
const RUNS = 3;

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Bytes and milliseconds to read `seq 1 LINES` from a local pty until the process exits. */
function readFromLocalPty(): Promise<{ bytes: number; ms: number }> {
  return new Promise((resolve) => {
    const start = performance.now();
    let bytes = 0;
    const shell = pty.spawn('seq', ['1', String(LINES)], { cols: 80, rows: 24, encoding: null });
    shell.onData((data) => (bytes += data.length));
    shell.onExit(() => resolve({ bytes, ms: performance.now() - start }));
  });
}

/** Bytes and milliseconds from typing the command to the last output line arriving at a client in another process. */
async function readThroughChannel(faults?: FaultOptions): Promise<{ bytes: number; ms: number }> {
  const server = await startDataChannelServer(faults ? { faults } : {});
  try {
    const session = server.startSession({ runAsUser: process.env.USER ?? 'root' });
    const client = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./dataChannelClient.ts', import.meta.url)), String(LINES)],
      // The token goes by environment, not argv, as the plugin's env-var form keeps it out of `ps`.
      {
        env: { ...process.env, STREAM_URL: session.streamUrl, TOKEN_VALUE: session.token },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    client.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => client.once('exit', resolve));
    if (code !== 0) throw new Error(`benchmark client exited with ${code}`);
    return JSON.parse(stdout.trim().split('\n').pop()!) as { bytes: number; ms: number };
  } finally {
    await server.close();
  }
}

export default async function dataChannelBench(): Promise<BenchRow[]> {
  const local: number[] = [];
  const channel: number[] = [];
  const lossy: number[] = [];
  let size = 0;
  for (let run = 0; run < RUNS; run++) {
    const direct = await readFromLocalPty();
    local.push(direct.bytes / 1e6 / (direct.ms / 1000));
    const through = await readThroughChannel();
    channel.push(through.bytes / 1e6 / (through.ms / 1000));
    size = direct.bytes;
    const faulty = await readThroughChannel({ drop: 0.1, duplicate: 0.1, reorder: 0.1, seed: run + 1 });
    lossy.push(faulty.bytes / 1e6 / (faulty.ms / 1000));
  }
  const localMBps = median(local);
  const channelMBps = median(channel);
  const lossyMBps = median(lossy);
  return [
    {
      figure: `shell output throughput through the data channel (agent → WebSocket → client in another process, 1 KiB messages, ${round(size / 1e6)} MB; median of ${RUNS})`,
      value: round(channelMBps),
      unit: 'MB/s',
      comparedTo: `same output read straight from a local pty: ${round(localMBps)} MB/s`,
    },
    {
      figure: 'data channel throughput as a share of a local pty',
      value: round(channelMBps / localMBps, 2),
      unit: 'ratio',
      comparedTo: '1.0 = as fast as reading the pty directly',
    },
    {
      figure: 'data channel throughput with 10 % loss, duplication and reordering injected both ways',
      value: round(lossyMBps),
      unit: 'MB/s',
      comparedTo: `no faults: ${round(channelMBps)} MB/s`,
    },
  ];
}
