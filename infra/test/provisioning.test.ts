/**
 * Runs the provisioning command document's real command lines, under `sh` as
 * the SSM agent does, inside a throwaway root (bubblewrap: read-only /usr, a
 * copy of /etc, empty /home and /var), so this machine's own users and sudo
 * configuration are never touched. Needs root (useradd chowns the new homes),
 * bwrap, useradd and visudo, as CI has them.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInfraConfig, type InfraConfig } from '../src/config';
import { provisioningCommands, provisioningDocumentContent, provisioningSpec } from '../src/provisioning';

const baseConfig = {
  organization: { id: 'o-a1b2c3d4e5', targetOUs: ['ou-a1b2-11111111'] },
  regions: ['eu-west-1'],
  broker: { account: '111111111111', region: 'eu-west-1' },
  permissionSets: {
    AdministratorAccess: { linuxUser: 'ops-admin', sudo: 'all' },
    ReadOnly: { linuxUser: 'auditor' },
    Developer: { linuxUser: 'developer', sudo: ['/usr/bin/systemctl restart app', '/usr/bin/journalctl'] },
    Support_Tier1: { linuxUser: 'support' },
  },
};

describe('provisioningSpec', () => {
  it('lists each mapped Linux user once with its sudo rule', () => {
    expect(provisioningSpec(parseInfraConfig(baseConfig))).toBe(
      [
        'ops-admin|ALL',
        'auditor|-',
        'developer|/usr/bin/systemctl restart app,/usr/bin/journalctl',
        'support|-',
      ].join('\n'),
    );
  });

  it('gives a Linux user shared by two permission sets the union of their rules', () => {
    const config = parseInfraConfig({
      ...baseConfig,
      permissionSets: {
        A: { linuxUser: 'shared', sudo: ['/usr/bin/a'] },
        B: { linuxUser: 'shared', sudo: ['/usr/bin/b'] },
        C: { linuxUser: 'admin', sudo: ['/usr/bin/c'] },
        D: { linuxUser: 'admin', sudo: 'all' },
      },
    });
    expect(provisioningSpec(config)).toBe('shared|/usr/bin/a,/usr/bin/b\nadmin|ALL');
  });

  it('is a Linux-only aws:runShellScript document', () => {
    const content = provisioningDocumentContent(parseInfraConfig(baseConfig));
    expect(content.schemaVersion).toBe('2.2');
    expect(content.mainSteps[0]?.action).toBe('aws:runShellScript');
    expect(content.mainSteps[0]?.precondition).toEqual({ StringEquals: ['platformType', 'Linux'] });
    // SSM would read {{ ... }} as a document parameter.
    expect(JSON.stringify(content)).not.toContain('{{');
  });
});

function missingTool(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['bwrap', 'useradd', 'visudo', 'sudo']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} missing`;
  }
  return undefined;
}
const missing = missingTool();

/** A new instance has only system accounts: drop this machine's own users (uid/gid 1000-65533) from the copy. */
function freshInstanceAccounts(etcDir: string) {
  const system = (id: string | undefined) => Number(id) < 1000 || Number(id) >= 65534;
  const read = (f: string) => readFileSync(path.join(etcDir, f), 'utf8').split('\n').filter(Boolean);
  const keepUsers = read('passwd').filter((l) => system(l.split(':')[2]));
  const keepGroups = read('group').filter((l) => system(l.split(':')[2]));
  const names = (lines: string[]) => new Set(lines.map((l) => l.split(':')[0]));
  const users = names(keepUsers);
  const groups = names(keepGroups);
  const write = (f: string, lines: string[]) => writeFileSync(path.join(etcDir, f), `${lines.join('\n')}\n`);
  write('passwd', keepUsers);
  write('group', keepGroups);
  write(
    'shadow',
    read('shadow').filter((l) => users.has(l.split(':')[0])),
  );
  if (existsSync(path.join(etcDir, 'gshadow')))
    write(
      'gshadow',
      read('gshadow').filter((l) => groups.has(l.split(':')[0])),
    );
  for (const f of readdirSync(path.join(etcDir, 'sudoers.d'))) {
    if (f !== 'README') rmSync(path.join(etcDir, 'sudoers.d', f));
  }
}

const realEtc = () =>
  ['passwd', 'shadow', 'group', 'gshadow'].map((f) => readFileSync(path.join('/etc', f), 'utf8')).join('\0') +
  readdirSync('/etc/sudoers.d').join(',');
const realEtcAtStart = realEtc();

describe.skipIf(missing !== undefined)(
  `provisioning script in a throwaway root (needs root, bwrap, useradd, visudo${missing ? `: ${missing}` : ''})`,
  () => {
    let root: string;

    /** Runs shell commands as root inside the throwaway root; only its /etc, /home and /var are writable. */
    function inRoot(script: string, env: Record<string, string> = {}) {
      const result = spawnSync(
        'bwrap',
        [
          '--ro-bind',
          '/usr',
          '/usr',
          '--symlink',
          'usr/bin',
          '/bin',
          '--symlink',
          'usr/sbin',
          '/sbin',
          '--symlink',
          'usr/lib',
          '/lib',
          ...(existsSync('/lib64') ? ['--symlink', 'usr/lib64', '/lib64'] : []),
          '--bind',
          path.join(root, 'etc'),
          '/etc',
          '--bind',
          path.join(root, 'home'),
          '/home',
          '--bind',
          path.join(root, 'var'),
          '/var',
          '--tmpfs',
          '/tmp',
          '--proc',
          '/proc',
          '--dev',
          '/dev',
          // No user namespace: useradd must be real root to chown the new homes.
          '--unshare-ipc',
          '--unshare-pid',
          '--unshare-net',
          '--unshare-uts',
          '--die-with-parent',
          '--clearenv',
          '--setenv',
          'PATH',
          '/usr/sbin:/usr/bin:/sbin:/bin',
          ...Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]),
          '--chdir',
          '/',
          'sh',
          '-c',
          script,
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    }

    const provision = (config: InfraConfig) => inRoot(provisioningCommands(config).join('\n'));
    const etc = (file: string) => readFileSync(path.join(root, 'etc', file), 'utf8');
    const line = (file: string, user: string) =>
      etc(file)
        .split('\n')
        .find((l) => l.startsWith(`${user}:`));
    const snapshot = () =>
      ['passwd', 'shadow', 'group', 'gshadow', 'sudoers.d/roleshell'].map((f) =>
        existsSync(path.join(root, 'etc', f)) ? etc(f) : null,
      );

    beforeAll(() => {
      root = mkdtempSync(path.join(tmpdir(), 'roleshell-provision-'));
      cpSync('/etc', path.join(root, 'etc'), { recursive: true, verbatimSymlinks: true });
      freshInstanceAccounts(path.join(root, 'etc'));
      mkdirSync(path.join(root, 'home'));
      for (const dir of ['var/mail', 'var/log', 'var/spool/mail'])
        mkdirSync(path.join(root, dir), { recursive: true });
      // Someone else's user, which provisioning must leave alone; and a mapped user that already exists.
      const setup = inRoot(
        'useradd --create-home carol && echo carol:secret | chpasswd && useradd developer',
      );
      expect(setup.stderr).toBe('');
      expect(setup.status).toBe(0);
    });

    afterAll(() => {
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it('creates the missing mapped users, locked, with homes and no SSH key, and installs their sudo rules', () => {
      const carolBefore = [line('passwd', 'carol'), line('shadow', 'carol')];
      const developerBefore = [line('passwd', 'developer'), line('shadow', 'developer')];
      const run = provision(parseInfraConfig(baseConfig));
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('created user ops-admin');
      expect(run.stdout).toContain('created user auditor');
      expect(run.stdout).toContain('created user support');
      expect(run.stdout).not.toContain('created user developer');

      for (const user of ['ops-admin', 'auditor', 'support']) {
        const [, , uid, , , home, shell] = line('passwd', user)!.split(':');
        expect(home).toBe(`/home/${user}`);
        expect(shell).toBe('/bin/bash');
        expect(statSync(path.join(root, 'home', user)).uid).toBe(Number(uid));
        expect(existsSync(path.join(root, 'home', user, '.ssh'))).toBe(false);
        // Locked: the hash field starts with '!' and holds no password hash.
        expect(line('shadow', user)!.split(':')[1]).toMatch(/^!+\*?$/);
      }
      // Unmapped and pre-existing users are untouched.
      expect([line('passwd', 'carol'), line('shadow', 'carol')]).toEqual(carolBefore);
      expect([line('passwd', 'developer'), line('shadow', 'developer')]).toEqual(developerBefore);

      const sudoers = path.join(root, 'etc/sudoers.d/roleshell');
      expect(statSync(sudoers).mode & 0o777).toBe(0o440);
      expect(etc('sudoers.d/roleshell')).toContain('ops-admin ALL=(ALL) NOPASSWD: ALL');
      expect(etc('sudoers.d/roleshell')).not.toMatch(/^(auditor|support|carol)\b/m);

      // What sudo itself makes of the installed rules.
      const admin = inRoot('sudo -l -U ops-admin');
      expect(admin.stdout).toContain('(ALL) NOPASSWD: ALL');
      const developer = inRoot('sudo -l -U developer');
      expect(developer.stdout).toContain(
        '(root) NOPASSWD: /usr/bin/systemctl restart app, /usr/bin/journalctl',
      );
      const auditor = inRoot('sudo -l -U auditor');
      expect(auditor.stdout).toContain('not allowed to run sudo');
      expect(inRoot('sudo -l -U carol').stdout).toContain('not allowed to run sudo');
    });

    it('changes nothing when run again', () => {
      const before = snapshot();
      const run = provision(parseInfraConfig(baseConfig));
      expect(run.status).toBe(0);
      expect(run.stdout.trim()).toBe('roleshell: no change');
      expect(snapshot()).toEqual(before);
    });

    it('drops a sudo rule removed from the configuration, keeping the user', () => {
      const { Developer: _developer, ...others } = baseConfig.permissionSets;
      const config = parseInfraConfig({
        ...baseConfig,
        permissionSets: { ...others, Developer: { linuxUser: 'developer' } },
      });
      const run = provision(config);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('updated /etc/sudoers.d/roleshell');
      expect(etc('sudoers.d/roleshell')).not.toContain('developer');
      expect(line('passwd', 'developer')).toBeDefined();
    });

    it('puts the previous sudo rules back when the whole sudo configuration no longer parses', () => {
      const before = etc('sudoers.d/roleshell');
      const script = provisioningCommands(parseInfraConfig(baseConfig)).slice(1).join('\n');
      // Another file in sudoers.d that sudo cannot parse: the new rules alone pass, the whole does not.
      const run = inRoot(`printf 'this is not sudoers\\n' > /etc/sudoers.d/zz-broken\n${script}`, {
        ROLESHELL_USERS: 'ops-admin|ALL\nauditor|/usr/bin/id',
      });
      rmSync(path.join(root, 'etc/sudoers.d/zz-broken'));
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('did not pass visudo -c with the new rules; restored the previous one');
      expect(etc('sudoers.d/roleshell')).toBe(before);
      expect(readdirSync(path.join(root, 'etc/sudoers.d')).filter((f) => f.startsWith('.'))).toEqual([]);
    });

    it('refuses a sudo rule with characters sudoers gives meaning to, installing nothing', () => {
      const before = etc('sudoers.d/roleshell');
      const script = provisioningCommands(parseInfraConfig(baseConfig)).slice(1).join('\n');
      // The schema refuses this too; the script checks again on the instance.
      const run = inRoot(script, { ROLESHELL_USERS: 'auditor|/usr/bin/id : ALL=(ALL) ALL' });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("refusing sudo rule for auditor: '/usr/bin/id : ALL=(ALL) ALL'");
      expect(etc('sudoers.d/roleshell')).toBe(before);
    });

    it('refuses root and malformed user names', () => {
      const script = provisioningCommands(parseInfraConfig(baseConfig)).slice(1).join('\n');
      const run = inRoot(script, { ROLESHELL_USERS: 'root|ALL' });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("refusing Linux user name 'root'");
      expect(line('passwd', 'root')).toBe(
        readFileSync('/etc/passwd', 'utf8')
          .split('\n')
          .find((l) => l.startsWith('root:')),
      );
    });
  },
);

it("left this machine's own /etc alone", () => {
  expect(realEtc()).toBe(realEtcAtStart);
  expect(readFileSync('/etc/passwd', 'utf8')).not.toMatch(/^carol:/m);
});
