/**
 * The whole channel under injected loss, duplication and reordering in both
 * directions: 10 MB of shell output arrives exactly once and in order, and
 * stdin arrives intact.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DataChannelClient } from '../../../app/session/dataChannel/client';
import type { ChannelClosedPayload } from '../../../app/session/dataChannel/message';
import {
  Transcript,
  ensureLinuxUser,
  runningAsRoot,
  startDataChannelServer,
  type DataChannelTestServer,
} from './fixtures/harness';

const USER = 'rs-dc-bob';
const LINES = 1_400_000; // `seq` prints 10.1 MB; the pty's \r\n makes it 11.5 MB

let server: DataChannelTestServer;
let client: DataChannelClient | undefined;

beforeAll(async () => {
  if (runningAsRoot) ensureLinuxUser(USER);
  server = await startDataChannelServer({
    faults: { drop: 0.1, duplicate: 0.1, reorder: 0.1, seed: 20261130, direction: 'both' },
  });
});

afterAll(async () => {
  client?.close();
  await server.close();
});

it('delivers 10 MB of output once and in order, and stdin intact, with 10 % loss, duplication and reordering both ways', async () => {
  const session = server.startSession({ runAsUser: runningAsRoot ? USER : 'nobody' });
  client = await DataChannelClient.open(session.streamUrl, session.token);
  const transcript = new Transcript();
  client.on('output', transcript.append);
  const closed = new Promise<ChannelClosedPayload>((resolve) => client!.once('closed', resolve));

  // stdin: 2,000 lines (≈ 190 KB) through the faulty link into sha256sum.
  const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(80)}\n`).join('');
  const expectedHash = createHash('sha256').update(lines).digest('hex');
  client.sendInput("stty -echo; sha256sum | sed 's/^/HASH:/'\r");
  await transcript.waitFor(/sha256sum[^\n]*\n/, 30_000);
  client.sendInput(lines);
  client.sendInput('\x04');
  const hash = await transcript.waitFor(/HASH:([0-9a-f]{64})/, 60_000);
  expect(hash[1]).toBe(expectedHash);

  // stdout: 10 MB between markers the echoed command line cannot contain.
  const from = transcript.byteLength;
  client.sendInput(`stty echo; printf '%s\\n' "BIG""START"; seq 1 ${LINES}; printf '%s\\n' "BIG""END"\r`);
  await transcript.waitFor(/BIGEND\r\n/, 120_000, from);
  const text = transcript.bytes.subarray(from).toString('latin1');
  const body = text.slice(text.indexOf('BIGSTART\r\n') + 'BIGSTART\r\n'.length, text.indexOf('BIGEND\r\n'));
  let expected = '';
  const parts: string[] = [];
  for (let n = 1; n <= LINES; n++) parts.push(`${n}\r\n`);
  expected = parts.join('');
  expect(expected.length).toBeGreaterThan(10_000_000);
  if (body !== expected) {
    let at = 0;
    while (at < body.length && body[at] === expected[at]) at++;
    expect.fail(
      `output differs at byte ${at} of ${expected.length} (got ${body.length}): ` +
        `${JSON.stringify(body.slice(at - 20, at + 40))} vs ${JSON.stringify(expected.slice(at - 20, at + 40))}`,
    );
  }

  client.sendInput('exit 3\r');
  expect((await closed).Output).toBe('');
  expect(server.sessions.get(session.sessionId)).toMatchObject({ status: 'Terminated', exitCode: 3 });

  const counts = server.host.faultCounts?.(session.sessionId);
  for (const direction of [counts!.toClient, counts!.toAgent]) {
    expect(direction.dropped).toBeGreaterThan(0);
    expect(direction.duplicated).toBeGreaterThan(0);
    expect(direction.reordered).toBeGreaterThan(0);
  }
  expect(counts!.toClient.dropped).toBeGreaterThan(1000); // ≈ 10 % of 11,000+ output messages
}, 180_000);
