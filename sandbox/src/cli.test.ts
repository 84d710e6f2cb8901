import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import { DataChannelClient } from '../../app/session/dataChannel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { clientConfig, permissionSetCredentials, signIn } from './testing/sdk';
import type { Sandbox } from './index';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const running: ChildProcessWithoutNullStreams[] = [];

function startCli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  // node --import tsx runs the CLI in this one process, so its PID is the sandbox's.
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: 'pipe', env });
  running.push(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const firstLine = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    void exited.then(({ code }) => reject(new Error(`CLI exited (${code}) before it was ready: ${stderr}`)));
  });
  firstLine.catch(() => {}); // awaited only by tests that expect the CLI to become ready
  return { child, firstLine, exited, stderr: () => stderr, stdout: child.stdout };
}

/** PIDs of every live process below `pid` (from /proc). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) {
      if (parent !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/** Running (a zombie waiting for a reaper has already ended). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
};

afterEach(() => {
  for (const child of running.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('sandbox CLI', () => {
  it('prints one JSON descriptor line, serves, and stops cleanly on SIGTERM', async () => {
    const cli = startCli(['--approve', 'alice', '--quiet']);
    const line = await cli.firstLine;
    const descriptor = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(descriptor)).toEqual([
      'endpoint',
      'region',
      'startUrl',
      'brokerFunctionName',
      'brokerFunctionArn',
      'cloudTrail',
      'users',
    ]);
    expect(descriptor).toMatchObject({
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      region: 'eu-west-1',
      startUrl: 'https://roleshell-sandbox.awsapps.com/start',
      brokerFunctionName: 'roleshell-broker',
      brokerFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:roleshell-broker',
      cloudTrail: `${descriptor.endpoint as string}/_sandbox/cloudtrail`,
      users: ['alice', 'bob'],
    });

    // Use it: sign in and invoke the broker, so a Lambda worker is running when it is stopped.
    const sandbox = descriptor as unknown as Sandbox;
    const { accessToken } = await signIn(sandbox);
    const creds = await permissionSetCredentials(sandbox, accessToken, '222222222222', 'Developer');
    const lambda = new LambdaClient(clientConfig(sandbox, 'eu-west-1', creds));
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: sandbox.brokerFunctionArn,
        Payload: JSON.stringify({ action: 'nonsense' }),
      }),
    );
    expect(out.StatusCode).toBe(200);
    lambda.destroy();
    const trail = (await (await fetch(descriptor.cloudTrail as string)).json()) as { eventName: string }[];
    expect(trail.map((e) => e.eventName)).toContain('Invoke');

    // And a live shell: start a session and attach to it over the data channel.
    const ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', creds));
    const session = await ssm.send(
      new StartSessionCommand({ Target: 'i-0a1b2c3d4e5f60001', DocumentName: 'RoleShell-Developer' }),
    );
    ssm.destroy();
    const channel = await DataChannelClient.open(session.StreamUrl!, session.TokenValue!, {
      size: { cols: 80, rows: 24 },
    });
    let output = '';
    channel.on('output', (chunk: Buffer) => (output += chunk.toString()));
    channel.sendInput(Buffer.from('echo shell-$((6*7))\n'));
    while (!output.includes('shell-42')) await new Promise((r) => setTimeout(r, 20));
    const closed = new Promise<void>((resolve) => {
      channel.once('closed', () => resolve());
      channel.once('disconnected', () => resolve());
    });

    const children = descendants(cli.child.pid!);
    const commands = children.map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        return '';
      }
    });
    expect(commands.some((c) => /\b(ba|da)?sh\b/.test(c))).toBe(true); // the session's shell
    let extraStdout = '';
    cli.stdout.on('data', (d: Buffer) => (extraStdout += d.toString()));
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    expect(code).toBe(0);
    await closed;
    channel.close();
    expect(extraStdout).toBe('');
    children.forEach((pid, i) =>
      expect(alive(pid), `process ${pid} (${commands[i]}) left running`).toBe(false),
    );
    const port = Number(new URL(descriptor.endpoint as string).port);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('says once at start, with what to install, when sessions cannot run in their instance’s namespaces', async () => {
    // A PATH without bubblewrap on it, as on a machine that lacks the package.
    const cli = startCli(['--approve', 'alice', '--quiet'], { ...process.env, PATH: '/nonexistent' });
    expect(JSON.parse(await cli.firstLine)).toHaveProperty('endpoint');
    const warning =
      "sandbox: sessions run as your own user, not as each instance's Linux users: bubblewrap (bwrap) is not installed. To fix, install bubblewrap: `sudo apt-get install bubblewrap` (Debian, Ubuntu) or `sudo dnf install bubblewrap` (Fedora).\n";
    expect(cli.stderr()).toBe(warning);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
    expect(cli.stderr().split(warning).length - 1).toBe(1);
  });

  it('exits 1 with a clear message for a bad org file, and 2 for bad arguments', async () => {
    const bad = startCli(['--org', '/nonexistent/org.yaml']);
    expect((await bad.exited).code).toBe(1);
    expect(bad.stderr()).toContain('Cannot read org file /nonexistent/org.yaml');
    const port = startCli(['--port', 'many']);
    expect((await port.exited).code).toBe(2);
    expect(port.stderr()).toContain('--port must be 0-65535');
    const unknownUser = startCli(['--approve', 'mallory']);
    expect((await unknownUser.exited).code).toBe(1);
    expect(unknownUser.stderr()).toContain('no IdC user mallory');
  });
});

describe('startSandbox', () => {
  it('reports a port that is taken', async () => {
    const { startSandbox } = await import('./index');
    const first = await startSandbox();
    try {
      const port = Number(new URL(first.endpoint).port);
      await expect(startSandbox({ port })).rejects.toThrow(`Cannot listen on 127.0.0.1:${port}`);
    } finally {
      await first.close();
    }
  });
});
