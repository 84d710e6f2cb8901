/**
 * The client side of the data-channel benchmark, in its own process so the
 * agent and the client do not share an event loop (on AWS they run on
 * different machines): opens the session from STREAM_URL / TOKEN_VALUE, runs
 * `seq 1 <lines>`, prints {"bytes","ms"} as one JSON line.
 */
import { DataChannelClient } from '../app/session/dataChannel/client';
import { Transcript } from '../sandbox/src/dataChannel/fixtures/harness';

const lines = Number(process.argv[2]);
const client = await DataChannelClient.open(process.env.STREAM_URL!, process.env.TOKEN_VALUE!);
const transcript = new Transcript();
client.on('output', transcript.append);
client.sendInput('echo "RE""ADY"\r');
await transcript.waitFor(/READY\r\n/, 30_000);
const from = transcript.byteLength;
const start = performance.now();
client.sendInput(`seq 1 ${lines}; printf '%s\\n' "BENCH""END"\r`);
await transcript.waitFor(/BENCHEND\r\n/, 300_000, from);
const ms = performance.now() - start;
client.close();
process.stdout.write(`${JSON.stringify({ bytes: transcript.byteLength - from, ms })}\n`);
process.exit(0);
