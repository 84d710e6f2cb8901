/**
 * The session host as a real child process: messages are schema-checked both
 * ways, a crashing host closes its sessions with a reason instead of taking
 * the core down, and a hung host is killed within the shutdown timeout.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { forkSessionHost, SessionHost, type HostedMessage } from './sessionHost';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const hosts: SessionHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.shutdown(500)));
});

function start(entry?: string) {
  const logs: string[] = [];
  const host = new SessionHost(
    () => forkSessionHost(entry ? path.join(fixtures, entry) : undefined),
    (line) => logs.push(line),
  );
  hosts.push(host);
  return { host, logs };
}

function nextMessage(host: SessionHost, id: string, type: HostedMessage['type']): Promise<HostedMessage> {
  return new Promise((resolve) =>
    host.register(id, (message) => {
      if (message.type === type) resolve(message);
    }),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const openUnreachable = (id: string) =>
  ({
    type: 'open',
    id,
    backend: 'dataChannel',
    streamUrl: 'ws://127.0.0.1:9/v1/data-channel/s-1?role=publish_subscribe',
    tokenValue: 't',
    cols: 80,
    rows: 24,
  }) as const;

describe('SessionHost', () => {
  it('runs the real host: a session that cannot reach its data channel closes with the reason', async () => {
    const { host } = start();
    const closed = nextMessage(host, 'a', 'closed');
    host.send(openUnreachable('a'));
    expect(await closed).toMatchObject({
      type: 'closed',
      failed: true,
      reason: expect.stringContaining("Cannot reach the session's data channel"),
    });
  });

  it('warm() starts the host ahead of the first session, which then runs in that same process', async () => {
    const { host } = start();
    expect(host.pid).toBeUndefined();
    host.warm();
    const pid = host.pid!;
    expect(alive(pid)).toBe(true);
    const closed = nextMessage(host, 'a', 'closed');
    host.send(openUnreachable('a'));
    await closed;
    expect(host.pid).toBe(pid);
  });

  it('a host that crashes closes its sessions with a reason, and the next session gets a new host', async () => {
    const { host, logs } = start('crashingHost.mjs');
    const closed = nextMessage(host, 'a', 'closed');
    host.send(openUnreachable('a'));
    expect(await closed).toEqual({
      type: 'closed',
      id: 'a',
      reason: 'The session host stopped unexpectedly.',
      failed: true,
    });
    expect(logs.join('\n')).toContain('session host exited (code 3)');
    const again = nextMessage(host, 'b', 'closed');
    host.send(openUnreachable('b'));
    await expect(again).resolves.toMatchObject({ reason: 'The session host stopped unexpectedly.' });
  });

  it('drops messages that are not in the protocol', async () => {
    const { host, logs } = start('lyingHost.mjs');
    const seen: HostedMessage[] = [];
    const closed = new Promise<void>((resolve) =>
      host.register('a', (message) => {
        seen.push(message);
        if (message.type === 'closed') resolve();
      }),
    );
    host.send(openUnreachable('a'));
    await closed;
    expect(seen).toEqual([{ type: 'closed', id: 'a', reason: 'done', failed: false }]);
    expect(logs.filter((line) => line.includes('not in the protocol'))).toHaveLength(2);
  });

  it('kills a hung host once the shutdown timeout has passed', async () => {
    const { host, logs } = start('hungHost.mjs');
    host.send(openUnreachable('a'));
    const pid = host.pid!;
    expect(alive(pid)).toBe(true);
    await host.shutdown(300);
    expect(alive(pid)).toBe(false);
    expect(logs.join('\n')).toContain('did not exit within 300 ms; killed');
  });
});
