/**
 * A long-running sandbox does not grow with the sessions it has served: once
 * a session has ended, the data-channel host holds nothing of its agent
 * (shell, channel, buffers), checked by the garbage collector itself.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DataChannelClient } from '../../../app/session/dataChannel/client';
import { startDataChannelServer, type DataChannelTestServer } from './fixtures/harness';

const SESSIONS = 100;
let server: DataChannelTestServer;

beforeAll(async () => {
  server = await startDataChannelServer();
});
afterAll(async () => {
  await server?.close();
});

/** The collector, for this test only. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

it(`forgets every agent once its session has ended (${SESSIONS} sessions)`, async () => {
  const agents: WeakRef<object>[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    // A user the machine lacks: the shell runs as the sandbox's own user (nobody's shell would exit at once).
    const session = server.startSession({ runAsUser: 'roleshell-no-such-user' });
    const client = await DataChannelClient.open(session.streamUrl, session.token);
    const closed = new Promise((resolve) => client.once('closed', resolve));
    expect(server.host.liveSessionCount()).toBe(1);
    // The agent's own fault tallies: reachable only through the agent.
    agents.push(new WeakRef(server.host.faultCounts!(session.sessionId)!));
    // Half end by TerminateSession, half by the shell exiting.
    if (i % 2 === 0) await server.host.terminate(session.sessionId);
    else client.sendInput('exit\r');
    await closed;
    client.close();
    expect(server.host.liveSessionCount()).toBe(0);
    expect(server.sessions.get(session.sessionId)?.status).toBe('Terminated');
  }
  // Let sockets and timers of the last sessions wind down, then collect.
  await new Promise((resolve) => setTimeout(resolve, 200));
  collectGarbage();
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  const alive = agents.filter((ref) => ref.deref() !== undefined).length;
  expect(alive).toBe(0);
}, 120_000);
