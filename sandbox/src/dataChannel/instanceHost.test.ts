/**
 * Sandbox instances as little hosts: sessions through the real sandbox (SSM
 * StartSession with the unmodified SDK client, RoleShell's built-in client on
 * the data channel) land in their instance's namespaces as the mapped Linux
 * user. Run against the sandbox in this process and, when the tests run as
 * root, against `npm run sandbox`'s CLI started as `nobody`, so no part of it
 * needs root.
 */
import { SSMClient, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataChannelClient } from '../../../app/session/dataChannel/client';
import type { ChannelClosedPayload } from '../../../app/session/dataChannel/message';
import { loadOrg, startSandbox, type OrgFile, type Sandbox } from '../index';
import { clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';
import { Transcript, runningAsRoot, uniqueMarker } from './fixtures/harness';
import { instanceLinuxUsers, probeIsolation, UNPRIVILEGED_UID } from './instanceHost';
import { sessionProcesses } from './loginShell';

const ACCOUNT = '222222222222';
const WEB_1 = 'i-0a1b2c3d4e5f60001';
const WEB_2 = 'i-0a1b2c3d4e5f60002';
/** Lists its Linux users without ops-admin. */
const DB_1 = 'i-0a1b2c3d4e5f60003';
const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The default org, with Support_Tier1's document not using Run As and prod-db-1 lacking ops-admin. */
function testOrg(): OrgFile {
  const { org } = loadOrg();
  const file = structuredClone(org) as OrgFile & typeof org;
  file.functions = []; // no Lambda needed here
  const support = file.sessionDocuments.find((d) => d.name === 'RoleShell-Support_Tier1')!;
  support.content.inputs = { ...support.content.inputs, runAsEnabled: false };
  file.instances.find((i) => i.id === DB_1)!.linuxUsers = ['root', 'ssm-user', 'developer'];
  return file;
}

it('gives every instance root, ssm-user and its documents’ run-as users, with uids that do not move', () => {
  const { org } = loadOrg(testOrg());
  const web1 = org.instances.find((i) => i.id === WEB_1)!;
  const users = instanceLinuxUsers(org, web1);
  expect(users.map((u) => u.name).sort()).toEqual(
    ['auditor', 'developer', 'ops-admin', 'root', 'ssm-user', 'support'].sort(),
  );
  expect(users.find((u) => u.name === 'root')).toMatchObject({ uid: 0, home: '/root' });
  expect(users.find((u) => u.name === 'ssm-user')).toMatchObject({ uid: 1001, home: '/home/ssm-user' });
  expect(new Set(users.map((u) => u.uid)).size).toBe(users.length);
  // Fewer users on another instance: the ones both have keep their uid.
  const db1 = instanceLinuxUsers(
    org,
    org.instances.find((i) => i.id === DB_1)!,
  );
  expect(db1.map((u) => u.name)).toEqual(['developer', 'root', 'ssm-user']);
  expect(db1.find((u) => u.name === 'developer')!.uid).toBe(users.find((u) => u.name === 'developer')!.uid);
});

it('falls back to the sandbox’s own user, and says why, where bubblewrap is missing', async () => {
  const sandbox = await startSandbox({ org: testOrg(), approve: 'alice', bwrap: '/nonexistent/bwrap' });
  try {
    expect(sandbox.isolation).toMatchObject({
      available: false,
      reason: 'bubblewrap (bwrap) is not installed',
    });
    const target = await connectTo(sandbox);
    const session = await target.open('ReadOnly', WEB_1);
    try {
      expect(session.client.customerMessage).toMatch(
        /^This sandbox shell runs .*: bubblewrap \(bwrap\) is not installed; install bubblewrap: `sudo apt-get install bubblewrap`/,
      );
      // Still the machine's user (as root, the machine's own auditor where it exists), never the instance's.
      expect(await session.run('hostname')).not.toBe('prod-web-1');
    } finally {
      session.client.close();
      target.close();
    }
  } finally {
    await sandbox.close();
  }
});

it('reports refused user namespaces with what to allow', () => {
  // A bwrap that fails as it does where the kernel refuses unprivileged user namespaces.
  const dir = mkdtempSync(join(tmpdir(), 'roleshell-fake-bwrap-'));
  try {
    chmodSync(dir, 0o755);
    const fake = join(dir, 'bwrap');
    writeFileSync(fake, "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n", {
      mode: 0o755,
    });
    expect(probeIsolation(fake)).toEqual({
      available: false,
      reason:
        'bubblewrap cannot create user namespaces here (bwrap: No permissions to creating new namespace)',
      install: expect.stringMatching(
        /^allow unprivileged user namespaces: `sudo sysctl kernel\.unprivileged_userns_clone=1`/,
      ),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const isolation = probeIsolation('bwrap');
const where = [
  { name: 'the sandbox in this process', asNobody: false },
  ...(runningAsRoot ? [{ name: 'npm run sandbox started as nobody', asNobody: true }] : []),
];

describe.skipIf(!isolation.available).each(where)(
  'sessions in their instance’s namespaces (needs bubblewrap and user namespaces): $name',
  ({ asNobody }) => {
    let endpoint: { endpoint: string; region: string; startUrl: string };
    let target: Awaited<ReturnType<typeof connectTo>>;
    let stopSandbox: () => Promise<void>;
    let stateDir: string;

    beforeAll(async () => {
      stateDir = mkdtempSync(join(tmpdir(), 'roleshell-hosts-test-'));
      if (asNobody) {
        chownSync(stateDir, UNPRIVILEGED_UID, UNPRIVILEGED_UID);
        const cli = await startCliAsNobody(stateDir);
        endpoint = cli.endpoint;
        stopSandbox = cli.stop;
      } else {
        const sandbox = await startSandbox({ org: testOrg(), approve: 'alice', stateDir });
        endpoint = sandbox;
        stopSandbox = () => sandbox.close();
      }
      target = await connectTo(endpoint as Sandbox);
    }, 60_000);

    afterAll(async () => {
      target?.close();
      await stopSandbox?.();
      rmSync(stateDir, { recursive: true, force: true });
    });

    it.each([
      ['AdministratorAccess', 'ops-admin'],
      ['ReadOnly', 'auditor'],
      ['Developer', 'developer'],
    ])('%s is %s: whoami, id -un and $HOME; hostname is the Name tag', async (permissionSet, user) => {
      const session = await target.open(permissionSet, WEB_1);
      try {
        expect(session.client.customerMessage).toBeFalsy();
        expect(await session.run('whoami; id -un; echo "$HOME"; hostname')).toBe(
          `${user}\n${user}\n/home/${user}\nprod-web-1`,
        );
      } finally {
        await session.end();
      }
    });

    it('a document with runAsEnabled: false runs as ssm-user', async () => {
      const session = await target.open('Support_Tier1', WEB_1);
      try {
        expect(await session.run('whoami; echo "$HOME"')).toBe('ssm-user\n/home/ssm-user');
      } finally {
        await session.end();
      }
    });

    it('keeps a home’s files for the next session on that instance only', async () => {
      const marker = uniqueMarker();
      const first = await target.open('AdministratorAccess', WEB_1);
      await first.run(`echo ${marker} > ~/note.txt`);
      await first.end();
      const again = await target.open('AdministratorAccess', WEB_1);
      expect(await again.run('cat ~/note.txt')).toBe(marker);
      await again.end();
      const other = await target.open('AdministratorAccess', WEB_2);
      expect(await other.run('hostname; cat ~/note.txt 2>&1 || echo absent')).toMatch(
        /^prod-web-2\n.*No such file or directory\nabsent$/,
      );
      // Nor can it reach the other instance's homes through the state folder.
      expect(await other.run(`ls -A ${stateDir} 2>/dev/null | wc -l`)).toBe('0');
      await other.end();
    });

    it('sees the host read-only, a private /tmp, no host processes, no capabilities, no other user', async () => {
      const session = await target.open('Developer', WEB_1);
      // The project folder itself, unless it lives under /tmp (a CI clone), which the instance's private /tmp hides.
      const hostFolder = /^\/(var\/)?tmp\//.test(projectRoot) ? '/usr/' : projectRoot;
      try {
        expect(await session.run(`touch /etc/roleshell-probe 2>&1; touch ${hostFolder}probe 2>&1`)).toMatch(
          /^touch: cannot touch '\/etc\/roleshell-probe': Read-only file system\ntouch: cannot touch .*probe': Read-only file system$/,
        );
        expect(await session.run('echo x > /tmp/mine && ls -A /tmp')).toBe('mine');
        // Only the session's own tree: bwrap as pid 1, the login shells, ps itself.
        const commands = (await session.run('ps -e -o comm=')).split('\n');
        expect(new Set(commands)).toEqual(new Set(['bwrap', 'bash', 'ps']));
        expect(
          await session.run("grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status | awk '{print $2}' | sort -u"),
        ).toBe('0000000000000000');
        expect(await session.run('su -c id root </dev/null 2>&1; setpriv --reuid=0 id 2>&1 || true')).toMatch(
          /su: .*(failure|not permitted|cannot)[\s\S]*setpriv: setresuid failed: (Operation not permitted|Invalid argument)/i,
        );
      } finally {
        await session.end();
      }
    });

    it('fails a session whose run-as user the instance lacks, with the agent’s message', async () => {
      // The built-in client reports the channel_closed Output as the reason its open failed.
      await expect(target.open('AdministratorAccess', DB_1)).rejects.toThrow(
        /^Unable to start command: failed to start pty since RunAs user ops-admin does not exist$/,
      );
      expect(await target.describe(target.lastSessionId!)).toBe('Failed');
    });

    it('TerminateSession leaves no process of the session behind', async () => {
      const session = await target.open('Developer', WEB_1);
      await session.run('(sleep 300 &) ; sleep 301 & disown; echo started');
      // Seen from the machine: the session's bwrap and everything in its Linux session.
      const leaders = bwrapProcesses(stateDir);
      expect(leaders).toHaveLength(1);
      const inSession = sessionProcesses(leaders[0]!).map(identity);
      expect(inSession.length).toBeGreaterThanOrEqual(4);
      await session.end();
      expect(bwrapProcesses(stateDir)).toEqual([]);
      // By pid and start time: other processes on the machine may reuse a pid meanwhile.
      expect(inSession.filter((process) => identity(process.pid).started === process.started)).toEqual([]);
    });
  },
);

/**
 * A process by pid and start time (field 22 of /proc/<pid>/stat); `gone` once it has ended
 * (a zombie has: it only waits for init, which it was reparented to, to reap it).
 */
function identity(pid: number): { pid: number; started: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, started: fields[0] === 'Z' ? 'gone' : fields[19]! };
  } catch {
    return { pid, started: 'gone' };
  }
}

/** Pids of processes whose command line names this state folder: a session's bwrap (or its setpriv). */
function bwrapProcesses(stateDir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const sessionId = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
      // The pty's process (bwrap, setpriv having exec'd it) leads its Linux session; its forks do not.
      if (cmdline.startsWith('bwrap\0') && cmdline.includes(stateDir) && sessionId === Number(entry)) {
        found.push(Number(entry));
      }
    } catch {
      // gone while we looked
    }
  }
  return found;
}

async function startCliAsNobody(stateDir: string) {
  const orgFile = join(stateDir, 'org.json');
  writeFileSync(orgFile, JSON.stringify(testOrg()));
  chownSync(orgFile, UNPRIVILEGED_UID, UNPRIVILEGED_UID);
  const child: ChildProcess = spawn(
    'setpriv',
    [
      `--reuid=${UNPRIVILEGED_UID}`,
      `--regid=${UNPRIVILEGED_UID}`,
      '--clear-groups',
      '--',
      process.execPath,
      '--import',
      'tsx',
      'sandbox/src/cli.ts',
      '--org',
      orgFile,
      '--approve',
      'alice',
      '--state-dir',
      join(stateDir, 'state'),
      '--quiet',
    ],
    { cwd: projectRoot, env: { PATH: process.env.PATH, HOME: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await new Promise<{ endpoint: string; region: string; startUrl: string }>(
    (resolve, reject) => {
      let stdout = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolve(JSON.parse(stdout.split('\n')[0]!));
      });
      child.once('exit', (code) => reject(new Error(`sandbox CLI exited with ${code}: ${stderr}`)));
    },
  );
  // As nobody with bubblewrap working, the CLI has nothing to warn about.
  expect(stderr).not.toMatch(/sessions run as your own user/);
  return {
    endpoint: ready,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** alice signed in; opens sessions by permission set and instance. */
async function connectTo(sandbox: Sandbox) {
  const { accessToken } = await signIn(sandbox);
  const clients = new Map<string, SSMClient>();
  async function ssmFor(permissionSet: string): Promise<SSMClient> {
    let ssm = clients.get(permissionSet);
    if (!ssm) {
      const credentials = await permissionSetCredentials(sandbox, accessToken, ACCOUNT, permissionSet);
      ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', credentials));
      clients.set(permissionSet, ssm);
    }
    return ssm;
  }
  return {
    lastSessionId: undefined as string | undefined,
    async open(permissionSet: string, instanceId: string) {
      const ssm = await ssmFor(permissionSet);
      const started = await ssm.send(
        new StartSessionCommand({ Target: instanceId, DocumentName: `RoleShell-${permissionSet}` }),
      );
      this.lastSessionId = started.SessionId;
      const client = await DataChannelClient.open(started.StreamUrl!, started.TokenValue!);
      const transcript = new Transcript();
      client.on('output', transcript.append);
      const closed = new Promise<ChannelClosedPayload>((resolve) => client.once('closed', resolve));
      const run = async (command: string): Promise<string> => {
        const marker = uniqueMarker();
        const from = transcript.byteLength;
        // The markers are split so the echoed command line cannot match.
        client.sendInput(`echo "${marker}""-begin"; ${command}; echo "${marker}""-end"\r`);
        const match = await transcript.waitFor(
          new RegExp(`${marker}-begin\\r\\n([\\s\\S]*?)${marker}-end\\r\\n`),
          15_000,
          from,
        );
        return match[1]!.replace(/\r\n/g, '\n').replace(/\n$/, '');
      };
      await run('true');
      return {
        sessionId: started.SessionId!,
        client,
        closed,
        run,
        async end() {
          await ssm.send(new TerminateSessionCommand({ SessionId: started.SessionId }));
          await closed;
          client.close();
        },
      };
    },
    async describe(sessionId: string): Promise<string | undefined> {
      const { DescribeSessionsCommand } = await import('@aws-sdk/client-ssm');
      for (const ssm of clients.values()) {
        const history = await ssm.send(new DescribeSessionsCommand({ State: 'History' }));
        const found = history.Sessions?.find((s) => s.SessionId === sessionId);
        if (found) return found.Status;
      }
      return undefined;
    },
    close() {
      for (const ssm of clients.values()) ssm.destroy();
    },
  };
}
