/**
 * Data-channel throughput: a 100 MB shell output flood (`seq`) read through
 * the sandbox agent and the built-in client, side by side with the same
 * output read straight from a local pty and, where SESSION_MANAGER_PLUGIN
 * names it, through AWS's plugin, as ratios; the agent's and the client's
 * CPU share; and a smaller run through 10 % injected loss, duplication and
 * reordering.
 */
import * as pty from 'node-pty';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FaultOptions } from '../sandbox/src/dataChannel';
import { startDataChannelServer } from '../sandbox/src/dataChannel/fixtures/harness';
import type { BenchRow } from './types';

/** `seq 1 FLOOD_LINES` is about 100 MB after the pty's \r\n (ROLESHELL_BENCH_FLOOD_LINES shrinks it for a quick look). */
const FLOOD_LINES = Number(process.env.ROLESHELL_BENCH_FLOOD_LINES) || 11_200_000;
/** The lossy run is smaller: under 10 % loss it is retransmission-bound, not CPU-bound. */
const LOSSY_LINES = 1_400_000;
const RUNS = 3;
const plugin = process.env.SESSION_MANAGER_PLUGIN;

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mbps = (run: { bytes: number; ms: number }) => run.bytes / 1e6 / (run.ms / 1000);

interface Run {
  bytes: number;
  ms: number;
  /** CPU the sandbox agent (this process) used meanwhile. */
  agentCpuMs?: number;
  /** CPU the client process used meanwhile. */
  clientCpuMs?: number;
}

/** Bytes and milliseconds to read `seq 1 lines` from a local pty until the process exits. */
export function readFromLocalPty(lines: number): Promise<Run> {
  return new Promise((resolve) => {
    const start = performance.now();
    let bytes = 0;
    const shell = pty.spawn('seq', ['1', String(lines)], { cols: 80, rows: 24, encoding: null });
    shell.onData((data) => (bytes += data.length));
    shell.onExit(() => resolve({ bytes, ms: performance.now() - start }));
  });
}

/** Bytes and milliseconds from typing the command to the last output line arriving at a client in another process. */
export async function readThroughChannel(lines: number, faults?: FaultOptions): Promise<Run> {
  const server = await startDataChannelServer(faults ? { faults } : {});
  try {
    const session = server.startSession({ runAsUser: process.env.USER ?? 'root' });
    const client = spawn(
      process.execPath,
      [
        ...(process.env.BENCH_CLIENT_NODE_ARGS?.split(' ') ?? []),
        '--import',
        'tsx',
        fileURLToPath(new URL('./dataChannelClient.ts', import.meta.url)),
        String(lines),
      ],
      // The token goes by environment, not argv, as the plugin's env-var form keeps it out of `ps`.
      {
        env: { ...process.env, STREAM_URL: session.streamUrl, TOKEN_VALUE: session.token },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    client.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // The agent's CPU over the same interval the client measures (the setup is small next to 100 MB).
    const cpuStart = process.cpuUsage();
    const code = await new Promise<number | null>((resolve) => client.once('exit', resolve));
    const cpu = process.cpuUsage(cpuStart);
    if (code !== 0) throw new Error(`benchmark client exited with ${code}`);
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      bytes: number;
      ms: number;
      cpuMs: number;
    };
    return { ...result, clientCpuMs: result.cpuMs, agentCpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    await server.close();
  }
}

/** The same flood through AWS's session-manager-plugin (in a pty, as the AWS CLI runs it). */
export async function readThroughPlugin(pluginPath: string, lines: number): Promise<Run> {
  const server = await startDataChannelServer();
  try {
    const session = server.startSession({ runAsUser: process.env.USER ?? 'root' });
    const response = JSON.stringify({
      SessionId: session.sessionId,
      StreamUrl: session.streamUrl,
      TokenValue: session.token,
    });
    // The endpoint is only used for ResumeSession/TerminateSession, which this run never needs.
    const shell = pty.spawn(
      pluginPath,
      [
        response,
        'eu-west-1',
        'StartSession',
        '',
        JSON.stringify({ Target: session.target }),
        'http://127.0.0.1:9',
      ],
      { cols: 80, rows: 24, encoding: null, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    const END = Buffer.from('BENCHEND');
    let phase: 'ready' | 'flood' = 'ready';
    let seen = Buffer.alloc(0);
    let bytes = 0;
    let start = 0;
    const ms = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the plugin run did not finish within 600 s')),
        600_000,
      );
      shell.onData((raw) => {
        const data = raw as unknown as Buffer; // encoding: null gives Buffers
        if (phase === 'ready') {
          seen = Buffer.concat([seen, data]);
          // Through two ptys (the agent's and the plugin's terminal) a newline arrives as \r\r\n.
          if (seen.includes('READY\r')) {
            phase = 'flood';
            seen = Buffer.alloc(0);
            start = performance.now();
            shell.write(`seq 1 ${lines}; printf '%s\\n' "BENCH""END"\r`);
          }
          return;
        }
        bytes += data.length;
        const window = Buffer.concat([seen, data.subarray(Math.max(0, data.length - 64))]);
        if (window.includes(END)) {
          clearTimeout(timer);
          resolve(performance.now() - start);
        }
        seen = window.subarray(Math.max(0, window.length - END.length));
      });
      // The plugin prints its banner first; wait for the shell before typing.
      setTimeout(() => shell.write('echo "RE""ADY"\r'), 1500);
    });
    shell.kill('SIGTERM');
    return { bytes, ms };
  } finally {
    await server.close();
  }
}

export default async function dataChannelBench(): Promise<BenchRow[]> {
  const local: number[] = [];
  const channel: number[] = [];
  const agentShare: number[] = [];
  const clientShare: number[] = [];
  const viaPlugin: number[] = [];
  const lossy: number[] = [];
  let size = 0;
  for (let run = 0; run < RUNS; run++) {
    const direct = await readFromLocalPty(FLOOD_LINES);
    local.push(mbps(direct));
    const through = await readThroughChannel(FLOOD_LINES);
    channel.push(mbps(through));
    agentShare.push(through.agentCpuMs! / through.ms);
    clientShare.push(through.clientCpuMs! / through.ms);
    if (plugin) {
      // Through its own terminal each newline gains a \r: rate it on the same output's size.
      const viaTerminal = await readThroughPlugin(plugin, FLOOD_LINES);
      viaPlugin.push(mbps({ bytes: direct.bytes, ms: viaTerminal.ms }));
    }
    size = direct.bytes;
    lossy.push(
      mbps(await readThroughChannel(LOSSY_LINES, { drop: 0.1, duplicate: 0.1, reorder: 0.1, seed: run + 1 })),
    );
  }
  const localMBps = median(local);
  const channelMBps = median(channel);
  const rows: BenchRow[] = [
    {
      figure: `shell output flood through the data channel (agent → WebSocket → built-in client in another process, 1 KiB messages, ${round(size / 1e6)} MB; median of ${RUNS})`,
      value: round(channelMBps),
      unit: 'MB/s',
      comparedTo: `same output read straight from a local pty: ${round(localMBps)} MB/s`,
    },
    {
      figure: 'data channel throughput as a share of a local pty',
      value: round(channelMBps / localMBps, 2),
      unit: 'ratio',
      comparedTo: 'target ≥ 0.8; 1.0 = as fast as reading the pty directly',
    },
    {
      figure: 'sandbox agent CPU during the flood, share of one core',
      value: round(median(agentShare), 2),
      unit: 'ratio',
      comparedTo: `built-in client process: ${round(median(clientShare), 2)} of a core (below 1.0 = not the limit)`,
    },
  ];
  if (plugin) {
    const pluginMBps = median(viaPlugin);
    rows.push({
      figure: "built-in client / AWS's session-manager-plugin, same flood, same agent",
      value: round(channelMBps / pluginMBps, 2),
      unit: 'ratio',
      comparedTo: `plugin: ${round(pluginMBps)} MB/s, built-in: ${round(channelMBps)} MB/s (target ≥ 3)`,
    });
  } else {
    rows.push({
      figure: "built-in client / AWS's session-manager-plugin",
      value: 0,
      unit: 'ratio',
      comparedTo: 'not measured: set SESSION_MANAGER_PLUGIN to the plugin binary',
    });
  }
  rows.push({
    figure: `data channel throughput with 10 % loss, duplication and reordering injected both ways (${round((size * LOSSY_LINES) / FLOOD_LINES / 1e6)} MB)`,
    value: round(median(lossy)),
    unit: 'MB/s',
    comparedTo: `no faults: ${round(channelMBps)} MB/s`,
  });
  return rows;
}
