/**
 * The sandbox agent driven end to end by RoleShell's built-in client over a
 * real loopback WebSocket, with real login shells in ptys.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  DataChannelClient,
  DataChannelOpenError,
  type DataChannelClientOptions,
} from '../../../app/session/dataChannel/client';
import type { ChannelClosedPayload } from '../../../app/session/dataChannel/message';
import {
  Transcript,
  ensureLinuxUser,
  runningAsRoot,
  startDataChannelServer,
  uniqueMarker,
  type DataChannelTestServer,
} from './fixtures/harness';
import { sessionProcesses } from './loginShell';
import { IDLE_TIMEOUT_OUTPUT, MAX_DURATION_OUTPUT } from './shellSessionAgent';

const USER = 'rs-dc-alice';
const rootOnly = runningAsRoot ? it : it.skip;
if (!runningAsRoot) {
  console.warn('data-channel tests that run shells as other Linux users are skipped: not running as root');
}

let server: DataChannelTestServer;
const clients: DataChannelClient[] = [];

beforeAll(async () => {
  if (runningAsRoot) ensureLinuxUser(USER);
  server = await startDataChannelServer({ minuteMs: 60_000 });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await server.close();
});

async function connect(
  target: DataChannelTestServer,
  patch: Parameters<DataChannelTestServer['startSession']>[0] = {},
  options: DataChannelClientOptions = {},
) {
  const session = target.startSession({ runAsUser: runningAsRoot ? USER : 'nobody', ...patch });
  const client = await DataChannelClient.open(session.streamUrl, session.token, options);
  clients.push(client);
  const transcript = new Transcript();
  client.on('output', transcript.append);
  const closed = new Promise<ChannelClosedPayload>((resolve) => client.once('closed', resolve));
  return { session, client, transcript, closed };
}

/** Runs a command and returns what it printed between two markers (the echoed command line never contains them joined). */
async function run(client: DataChannelClient, transcript: Transcript, command: string): Promise<string> {
  const marker = uniqueMarker();
  const from = transcript.byteLength;
  client.sendInput(`printf '%s\\n' "${marker}""-start"; ${command}; printf '%s\\n' "${marker}""-end"\r`);
  const match = await transcript.waitFor(
    new RegExp(`${marker}-start\\r\\n([\\s\\S]*?)${marker}-end\\r\\n`),
    15_000,
    from,
  );
  return match[1]!;
}

describe('data channel: handshake and shell', () => {
  it('completes the handshake and marks the session Connected', async () => {
    const { session, client } = await connect(server);
    expect(client.agentVersion).toMatch(/^3\./);
    expect(client.isOpen).toBe(true);
    expect(server.sessions.get(session.sessionId)?.status).toBe('Connected');
    if (runningAsRoot) expect(client.customerMessage).toBeUndefined();
  });

  rootOnly('runs a login shell as the run-as user, with its environment and no root groups', async () => {
    const { client, transcript } = await connect(server);
    expect(await run(client, transcript, 'whoami')).toBe(`${USER}\r\n`);
    expect(
      await run(client, transcript, `printf '%s|%s|%s|%s|%s\\n' "$HOME" "$USER" "$LOGNAME" "$SHELL" "$PWD"`),
    ).toBe(`/home/${USER}|${USER}|${USER}|/bin/bash|/home/${USER}\r\n`);
    const ids = await run(client, transcript, 'id -u; id -G');
    const [uid, groups] = ids.trim().split(/\r\n/);
    expect(uid).not.toBe('0');
    expect(groups?.split(' ')).not.toContain('0');
    expect(
      await run(client, transcript, "grep -E '^Cap(Prm|Eff):' /proc/self/status | tr -s '\\t' ' '"),
    ).toBe('CapPrm: 0000000000000000\r\nCapEff: 0000000000000000\r\n');
  });

  it('runs as the current user, saying so once, when the run-as user does not exist', async () => {
    const { client, transcript } = await connect(server, { runAsUser: 'rs-no-such-user' });
    const me = (await run(client, transcript, 'whoami')).trim();
    expect(client.customerMessage).toBe(
      `This sandbox shell runs as ${me}, not rs-no-such-user: ${
        runningAsRoot
          ? 'Linux user rs-no-such-user does not exist on this sandbox instance'
          : 'the sandbox is not running as root'
      }.`,
    );
  });

  it('runs the document shell profile first', async () => {
    const { client, transcript } = await connect(server, {
      inputs: { shellProfile: { linux: 'export RS_PROFILE=from-document; cd /tmp' } },
    });
    expect(await run(client, transcript, 'echo "$RS_PROFILE $PWD"')).toBe('from-document /tmp\r\n');
  });

  it('runs the profile before the first prompt without echoing it (the default "cd ~ && exec bash -l")', async () => {
    const { client, transcript } = await connect(server, {
      inputs: { shellProfile: { linux: 'cd ~ && exec bash -l' } },
    });
    expect(await run(client, transcript, 'shopt -q login_shell && echo login; echo "$PWD = $HOME"')).toMatch(
      /^login\r\n(\S+) = \1\r\n$/,
    );
    // The real agent types the profile into the shell, so it shows above the prompt; here it does not.
    expect(transcript.text).not.toContain('exec bash');
  });

  it('applies Size messages to the pty', async () => {
    const { client, transcript } = await connect(server, {}, { size: { cols: 100, rows: 30 } });
    expect(await run(client, transcript, 'stty size')).toBe('30 100\r\n');
    client.resize(132, 43);
    expect(await run(client, transcript, 'stty size')).toBe('43 132\r\n');
  });

  it('closes the channel with the shell exit and moves the session to History', async () => {
    const { session, client, closed } = await connect(server);
    client.sendInput('exit 3\r');
    const payload = await closed;
    expect(payload).toMatchObject({
      SessionId: session.sessionId,
      MessageType: 'channel_closed',
      Output: '',
    });
    expect(payload.DestinationId).toBe(client.clientId);
    const ended = server.sessions.get(session.sessionId)!;
    expect(ended).toMatchObject({ status: 'Terminated', exitCode: 3 });
    expect(ended.endDate).toBeInstanceOf(Date);
    expect(server.sessions.isActive(ended)).toBe(false);
    expect(() => client.sendInput('x')).toThrow(/session has ended/);
  });
});

describe('data channel: refusals', () => {
  it('refuses a wrong token with a clear reason and leaves the session waiting', async () => {
    const session = server.startSession({ runAsUser: USER });
    const open = DataChannelClient.open(session.streamUrl, 'not-the-token');
    await expect(open).rejects.toThrow(DataChannelOpenError);
    await expect(open).rejects.toThrow(
      `Authentication failed: the token is not valid for session ${session.sessionId}`,
    );
    expect(server.sessions.get(session.sessionId)?.status).toBe('Connecting');
    // The right token still opens it.
    const client = await DataChannelClient.open(session.streamUrl, session.token);
    clients.push(client);
    expect(client.isOpen).toBe(true);
  });

  it('refuses unknown sessions and terminated sessions', async () => {
    const session = server.startSession({ runAsUser: USER });
    const unknown = session.streamUrl.replace(session.sessionId, 'test-unknown');
    await expect(DataChannelClient.open(unknown, session.token)).rejects.toThrow(
      'Session test-unknown not found',
    );
    await server.host.terminate(session.sessionId);
    expect(server.sessions.get(session.sessionId)?.status).toBe('Terminated');
    await expect(DataChannelClient.open(session.streamUrl, session.token)).rejects.toThrow(
      `Session ${session.sessionId} is terminated`,
    );
  });

  it('refuses an open frame that is not the schema', async () => {
    const session = server.startSession({ runAsUser: USER });
    const reason = await new Promise<string>((resolve) => {
      const socket = new WebSocket(session.streamUrl);
      socket.on('open', () =>
        socket.send(
          JSON.stringify({ MessageSchemaVersion: '1.0', RequestId: 'nope', TokenValue: session.token }),
        ),
      );
      socket.on('close', (_code, why) => resolve(why.toString()));
    });
    expect(reason).toMatch(/^Invalid open frame: RequestId/);
  });

  it('refuses a StreamUrl without role=publish_subscribe', async () => {
    const session = server.startSession({ runAsUser: USER });
    await expect(
      DataChannelClient.open(
        session.streamUrl.replace('role=publish_subscribe', 'role=subscribe'),
        session.token,
      ),
    ).rejects.toThrow('The session was refused: Unsupported role subscribe: use role=publish_subscribe');
  });

  rootOnly('reports a shell that ends before the handshake completes', async () => {
    // Every frame to the agent is lost, so the handshake never completes; nobody's login
    // shell is nologin, which exits at once.
    const deaf = await startDataChannelServer({ faults: { drop: 1, direction: 'toAgent' } });
    try {
      const session = deaf.startSession({ runAsUser: 'nobody' });
      await expect(DataChannelClient.open(session.streamUrl, session.token)).rejects.toThrow(
        `Session ${session.sessionId} ended before it started.`,
      );
      expect(deaf.sessions.get(session.sessionId)).toMatchObject({ status: 'Terminated', exitCode: 1 });
    } finally {
      await deaf.close();
    }
  });

  it('refuses a KMS document to a client that cannot do KMSEncryption, with the plugin-visible error', async () => {
    const session = server.startSession({
      runAsUser: USER,
      inputs: { kmsKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/abc' },
    });
    await expect(DataChannelClient.open(session.streamUrl, session.token)).rejects.toThrow(
      '----------ERROR-------\nEncountered error while initiating handshake. KMSEncryption failed on client with status 3 error: Unsupported action KMSEncryption',
    );
    expect(server.sessions.get(session.sessionId)?.status).toBe('Failed');
  });
});

describe('data channel: lifecycle', () => {
  it('TerminateSession ends the shell and every process of its session', async () => {
    const { session, client, transcript, closed } = await connect(server);
    // A daemon-style orphan and a job-control background job, each in its own process group.
    const pids = await run(client, transcript, '(sleep 1000 &); sleep 999 & echo "PIDS $$ $!"');
    const [, shellPid, backgroundPid] = /PIDS (\d+) (\d+)/.exec(pids)!.map(Number);
    expect(sessionProcesses(shellPid!).length).toBeGreaterThan(1);
    await server.host.terminate(session.sessionId);
    expect((await closed).Output).toBe('');
    expect(sessionProcesses(shellPid!)).toEqual([]);
    expect(existsSync(`/proc/${backgroundPid}`) && !isZombie(backgroundPid!)).toBe(false);
    expect(server.sessions.get(session.sessionId)).toMatchObject({ status: 'Terminated' });
  });

  it('resumes after a dropped socket with a ResumeSession token; the shell keeps running', async () => {
    const { session, client, transcript } = await connect(server);
    expect(await run(client, transcript, 'echo before')).toBe('before\r\n');
    const disconnected = new Promise((resolve) => client.once('disconnected', resolve));
    // Output produced while nobody is connected is kept for the resumed socket.
    client.sendInput('sleep 0.3; echo "while-$((6*7))"\r');
    server.dropConnections();
    await disconnected;
    await expect.poll(() => server.sessions.get(session.sessionId)?.status).toBe('Disconnected');
    client.sendInput('echo "typed-$((7*7))"\r'); // queued unacked, delivered after resume
    await client.resume(server.resumeSession(session.sessionId));
    await transcript.waitFor(/while-42\r\n/);
    await transcript.waitFor(/typed-49\r\n/);
    expect(server.sessions.get(session.sessionId)?.status).toBe('Connected');
    expect(await run(client, transcript, 'echo after')).toBe('after\r\n');
  });

  it("host.dropDataChannel cuts only that session's socket, abruptly; the shell and its state survive a resume", async () => {
    const dropped = await connect(server);
    const other = await connect(server);
    expect(await run(dropped.client, dropped.transcript, 'export MARK=kept-$((6*7)); echo $MARK')).toBe(
      'kept-42\r\n',
    );
    expect(await run(other.client, other.transcript, 'echo other')).toBe('other\r\n');
    const disconnected = new Promise<{ code: number }>((resolve) =>
      dropped.client.once('disconnected', resolve),
    );
    expect(server.host.dropDataChannel(dropped.session.sessionId)).toBe(true);
    // 1006: the socket was destroyed without a close frame, as on a dead network path.
    expect((await disconnected).code).toBe(1006);
    await expect.poll(() => server.sessions.get(dropped.session.sessionId)?.status).toBe('Disconnected');
    // Nothing is attached now, and an unknown session has nothing to drop.
    expect(server.host.dropDataChannel(dropped.session.sessionId)).toBe(false);
    expect(server.host.dropDataChannel('test-unknown')).toBe(false);
    expect(server.sessions.get(other.session.sessionId)?.status).toBe('Connected');
    expect(await run(other.client, other.transcript, 'echo still-other')).toBe('still-other\r\n');

    await dropped.client.resume(server.resumeSession(dropped.session.sessionId));
    await expect.poll(() => server.sessions.get(dropped.session.sessionId)?.status).toBe('Connected');
    expect(await run(dropped.client, dropped.transcript, 'echo after-$MARK')).toBe('after-kept-42\r\n');
    await server.host.terminate(dropped.session.sessionId);
    expect(server.host.dropDataChannel(dropped.session.sessionId)).toBe(false);
  });

  it('faults.dropAfterMessages cuts the first socket mid-output; the resumed socket gets all of it, in order', async () => {
    const dropping = await startDataChannelServer({ faults: { dropAfterMessages: 10 } });
    try {
      const { session, client, transcript } = await connect(dropping);
      const disconnected = new Promise<{ code: number }>((resolve) => client.once('disconnected', resolve));
      client.sendInput('seq 1 20000; echo "done-$((6*7))"\r');
      expect((await disconnected).code).toBe(1006);
      expect(transcript.text).not.toMatch(/done-42\r\n/); // cut before the output was through
      await expect.poll(() => dropping.sessions.get(session.sessionId)?.status).toBe('Disconnected');
      await client.resume(dropping.resumeSession(session.sessionId));
      await transcript.waitFor(/done-42\r\n/);
      const numbers = transcript.text.match(/^\d+(?=\r$)/gm)?.map(Number) ?? [];
      expect(numbers).toEqual(Array.from({ length: 20000 }, (_, i) => i + 1));
      // Once per session: the resumed socket stays up.
      expect(await run(client, transcript, 'echo after')).toBe('after\r\n');
      expect(dropping.sessions.get(session.sessionId)?.status).toBe('Connected');
    } finally {
      await dropping.close();
    }
  });

  it("reports a resume with a token that is not the session's as a disconnect with the reason", async () => {
    const { session, client, transcript } = await connect(server);
    const first = new Promise((resolve) => client.once('disconnected', resolve));
    server.dropConnections();
    await first;
    const refused = new Promise<{ reason: string }>((resolve) => client.once('disconnected', resolve));
    await client.resume('forged-token');
    expect((await refused).reason).toBe(
      `Authentication failed: the token is not valid for session ${session.sessionId}`,
    );
    // The session is still there for a real token.
    await client.resume(server.resumeSession(session.sessionId));
    expect(await run(client, transcript, 'echo still-here')).toBe('still-here\r\n');
  });

  it('ends the session when the shell exits while no client is connected', async () => {
    const quick = await startDataChannelServer({ drainTimeoutMs: 200 });
    try {
      const { session, client, transcript } = await connect(quick);
      expect(await run(client, transcript, 'echo ready')).toBe('ready\r\n');
      client.sendInput('sleep 0.2; exit 5\r');
      client.close();
      await expect
        .poll(() => quick.sessions.get(session.sessionId)?.status, { timeout: 10_000 })
        .toBe('Terminated');
      expect(quick.sessions.get(session.sessionId)?.exitCode).toBe(5);
      await expect(DataChannelClient.open(session.streamUrl, session.token)).rejects.toThrow('is terminated');
    } finally {
      await quick.close();
    }
  });

  it('ends an idle session after idleSessionTimeout', async () => {
    const fast = await startDataChannelServer({ minuteMs: 400 });
    try {
      const { session, closed } = await connect(fast, { inputs: { idleSessionTimeout: '1' } });
      expect((await closed).Output).toBe(IDLE_TIMEOUT_OUTPUT);
      expect(fast.sessions.get(session.sessionId)?.status).toBe('Terminated');
    } finally {
      await fast.close();
    }
  });

  it('ends a session at maxSessionDuration even while it is busy', async () => {
    const fast = await startDataChannelServer({ minuteMs: 400 });
    try {
      const { client, closed } = await connect(fast, { inputs: { maxSessionDuration: '1' } });
      const busy = setInterval(() => client.isOpen && client.sendInput(' '), 50);
      try {
        expect((await closed).Output).toBe(MAX_DURATION_OUTPUT);
      } finally {
        clearInterval(busy);
      }
    } finally {
      await fast.close();
    }
  });
});

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
