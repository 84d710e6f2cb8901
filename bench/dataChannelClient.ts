/**
 * The client side of the data-channel benchmark, in its own process so the
 * agent and the client do not share an event loop (on AWS they run on
 * different machines): opens the session from STREAM_URL / TOKEN_VALUE, runs
 * `seq 1 <lines>`, prints {"bytes","ms","cpuMs"} as one JSON line. It only
 * counts bytes and looks for the end marker, as the local-pty baseline does.
 */
import { DataChannelClient } from '../app/session/dataChannel/client';
import { Transcript } from '../sandbox/src/dataChannel/fixtures/harness';

const lines = Number(process.argv[2]);
const client = await DataChannelClient.open(process.env.STREAM_URL!, process.env.TOKEN_VALUE!);
const transcript = new Transcript();
client.on('output', transcript.append);
client.sendInput('echo "RE""ADY"\r');
await transcript.waitFor(/READY\r\n/, 30_000);
client.off('output', transcript.append);

const END = Buffer.from('BENCHEND\r\n');
let bytes = 0;
let tail = Buffer.alloc(0);
const start = performance.now();
const cpuStart = process.cpuUsage();
await new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no BENCHEND within 600 s')), 600_000);
  client.on('output', (chunk) => {
    bytes += chunk.length;
    // The marker may straddle two messages: look at the last few bytes of the previous one too.
    const window = Buffer.concat([tail, chunk.subarray(Math.max(0, chunk.length - 64))]);
    if (window.includes(END)) {
      clearTimeout(timer);
      resolve();
    }
    tail = window.subarray(Math.max(0, window.length - END.length));
  });
  client.sendInput(`seq 1 ${lines}; printf '%s\\n' "BENCH""END"\r`);
});
const ms = performance.now() - start;
const cpu = process.cpuUsage(cpuStart);
client.close();
process.stdout.write(`${JSON.stringify({ bytes, ms, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
process.exit(0);
