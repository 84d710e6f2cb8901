/**
 * Flow control's pause reaching the agent: the built-in client stops reading
 * its WebSocket (as the session host does above the high watermark), so the
 * agent's send window fills and stays unacked for seconds at a time. The flood
 * must still arrive complete, and the agent must not answer the silence by
 * resending its whole window every RTO: those copies queue in front of the
 * socket the client is not reading, and the next pause adds more, until the
 * flood slows to a crawl and never finishes (the session bench's stall).
 * Nor may it queue the window in memory in front of that socket.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DataChannelClient } from '../../../app/session/dataChannel/client';
import {
  Transcript,
  ensureLinuxUser,
  runningAsRoot,
  startDataChannelServer,
  type DataChannelTestServer,
} from './fixtures/harness';

const USER = 'rs-dc-carol';
const FLOOD_BYTES = 6_000_000;
/** Longer than the 1 s RTO cap, so every unacked message is overdue while the client is paused. */
const PAUSE_MS = 2500;
const PAUSES = 3;

let server: DataChannelTestServer;
let client: DataChannelClient | undefined;

beforeAll(async () => {
  if (runningAsRoot) ensureLinuxUser(USER);
  server = await startDataChannelServer();
});

afterAll(async () => {
  client?.close();
  await server.close();
});

it('a flood read in bursts with long pauses arrives complete, with next to no resent copies', async () => {
  const session = server.startSession({ runAsUser: runningAsRoot ? USER : 'nobody' });
  client = await DataChannelClient.open(session.streamUrl, session.token, { size: { cols: 200, rows: 50 } });
  const transcript = new Transcript();
  client.on('output', transcript.append);

  // A slow renderer: after each 300 KB the source is paused for PAUSE_MS, PAUSES times.
  let pauses = 0;
  let sincePause = 0;
  let paused = false;
  client.on('output', (chunk) => {
    sincePause += chunk.length;
    if (pauses < PAUSES && sincePause > 300_000 && !paused) {
      pauses++;
      paused = true;
      client!.pauseOutput();
      setTimeout(() => {
        paused = false;
        sincePause = 0;
        client!.resumeOutput();
      }, PAUSE_MS);
    }
  });

  const from = transcript.byteLength;
  client.sendInput(`head -c ${FLOOD_BYTES} /dev/zero | tr '\\0' x; echo FLOOD""DONE\r`);
  await transcript.waitFor(/FLOODDONE/, 120_000, from);
  expect(pauses).toBe(PAUSES);
  const body = transcript.bytes.subarray(from).toString('latin1');
  expect(/(x+)FLOODDONE/.exec(body)?.[1]?.length).toBe(FLOOD_BYTES);
  // Each pause holds up to 10,000 unacked messages: resending the window every RTO would deliver
  // tens of thousands of copies. The plugin's rule, one probe per 100 ms check, gives a few dozen.
  expect(client.duplicatesReceived).toBeLessThan(PAUSES * (PAUSE_MS / 100) + 50);
  // Nor queue output without bound in front of the socket the client is not reading: its write
  // blocks, as the real agent's does, and the shell with it. (Unbounded, this was the whole window.)
  expect(server.host.peakUnsentBytes!(session.sessionId)).toBeLessThan(1_000_000);
  // Nor hold output read from the pty: the shell blocks instead, about a pty read (64 KiB) past the
  // high watermark at most. (It held a megabyte, all of it in front of a keystroke's echo.)
  expect(server.host.peakPendingBytes!(session.sessionId)).toBeLessThanOrEqual(2 * 64 * 1024);
}, 180_000);
