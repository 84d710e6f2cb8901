/**
 * Each sandbox instance as a small host of its own: its Linux users (with
 * stable uids), its generated /etc/passwd and /etc/group, its home folders
 * under the sandbox's state folder, and its hostname (the `Name` tag). A
 * session's shell runs in it under bubblewrap (see loginShell.ts); where
 * bubblewrap is missing or user namespaces are refused, `isolation()` says so
 * and the shell falls back to the sandbox's own user.
 */
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Org, OrgInstance } from '../org';

/** A user in an instance's /etc/passwd. */
export interface InstanceLinuxUser {
  name: string;
  uid: number;
  gid: number;
  /** Home inside the instance (/root, /home/<name>). */
  home: string;
}

export interface InstanceHost {
  instanceId: string;
  /** The instance's `Name` tag (its name in the org when untagged). */
  hostname: string;
  users: InstanceLinuxUser[];
  /** Generated /etc/passwd and /etc/group, bound read-only into the session. */
  passwdFile: string;
  groupFile: string;
  /** The sandbox's state folder: hidden inside sessions so one instance never sees another's homes. */
  stateDir: string;
  /** Where `user`'s home lives on the real disk (created on first use, kept across sessions). */
  homeOnDisk(user: InstanceLinuxUser): string;
}

export type Isolation =
  { available: true; bwrap: string } | { available: false; reason: string; install: string };

/** The user every session's bwrap runs as when the sandbox is root: never a root-owned process in a session. */
export const UNPRIVILEGED_UID = 65534;

/** The agent creates ssm-user (uid 1001 on Amazon Linux, after ec2-user) when Run As is off. */
const SSM_USER = { name: 'ssm-user', uid: 1001 };
const FIRST_UID = 2000;
const UID_RANGE = 30_000;

/**
 * Users of an instance: its `linuxUsers` when the org lists them, else root,
 * ssm-user and every runAsDefaultUser of the session documents in its account.
 * Uids come from the name (not the order), so adding a document never renumbers
 * anyone's files.
 */
export function instanceLinuxUsers(org: Org, instance: OrgInstance): InstanceLinuxUser[] {
  const names = instance.linuxUsers ?? [
    'root',
    SSM_USER.name,
    ...org.sessionDocuments
      .filter((d) => d.accounts.includes(instance.account))
      .map((d) => d.content.inputs.runAsDefaultUser)
      .filter((name): name is string => !!name),
  ];
  const taken = new Set<number>();
  const users: InstanceLinuxUser[] = [];
  for (const name of [...new Set(names)].sort()) {
    let uid =
      name === 'root' ? 0 : name === SSM_USER.name ? SSM_USER.uid : FIRST_UID + (fnv1a(name) % UID_RANGE);
    while (taken.has(uid)) uid = FIRST_UID + ((uid - FIRST_UID + 1) % UID_RANGE);
    taken.add(uid);
    users.push({ name, uid, gid: uid, home: name === 'root' ? '/root' : `/home/${name}` });
  }
  return users;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export interface InstanceHostsOptions {
  org: Org;
  /** The sandbox's state folder; default a fresh temporary folder removed by close(). */
  stateDir?: string;
  /** The bubblewrap binary (default `bwrap` on PATH); a path that does not exist forces the fallback. */
  bwrap?: string;
}

export class InstanceHosts {
  readonly stateDir: string;
  private readonly ownsStateDir: boolean;
  private readonly hosts = new Map<string, InstanceHost>();
  private isolationResult: Isolation | undefined;

  constructor(private readonly options: InstanceHostsOptions) {
    this.ownsStateDir = !options.stateDir;
    this.stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'roleshell-sandbox-state-'));
    mkdirSync(this.stateDir, { recursive: true });
    // As root, sessions run bwrap as an unprivileged user, who must be able to reach the homes (not list them).
    if (runningAsRoot()) chmodSync(this.stateDir, 0o711);
  }

  /** Whether sessions can run in their instance's namespaces here; probed once. */
  isolation(): Isolation {
    return (this.isolationResult ??= probeIsolation(this.options.bwrap ?? 'bwrap'));
  }

  /** The host of a session's target, or undefined for an instance the org does not know. */
  host(instanceId: string): InstanceHost | undefined {
    const cached = this.hosts.get(instanceId);
    if (cached) return cached;
    const instance = this.options.org.instances.find((i) => i.id === instanceId);
    if (!instance) return undefined;
    const host = this.build(instance);
    this.hosts.set(instanceId, host);
    return host;
  }

  close(): void {
    if (this.ownsStateDir) rmSync(this.stateDir, { recursive: true, force: true });
  }

  private build(instance: OrgInstance): InstanceHost {
    const users = instanceLinuxUsers(this.options.org, instance);
    const root = join(this.stateDir, 'instances', instance.id);
    const etc = join(root, 'etc');
    mkdirSync(etc, { recursive: true });
    mkdirSync(join(root, 'home'), { recursive: true });
    if (runningAsRoot()) {
      for (const dir of [join(this.stateDir, 'instances'), root, etc, join(root, 'home')])
        chmodSync(dir, 0o711);
    }
    const passwdFile = join(etc, 'passwd');
    const groupFile = join(etc, 'group');
    const shell = existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
    writeFileSync(
      passwdFile,
      [
        ...users.map((u) => `${u.name}:x:${u.uid}:${u.gid}::${u.home}:${shell}`),
        'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    writeFileSync(
      groupFile,
      [...users.map((u) => `${u.name}:x:${u.gid}:`), 'nogroup:x:65534:', ''].join('\n'),
      { mode: 0o644 },
    );
    return {
      instanceId: instance.id,
      hostname: (instance.tags.Name ?? instance.name).slice(0, 64),
      users,
      passwdFile,
      groupFile,
      stateDir: this.stateDir,
      homeOnDisk: (user) => {
        const dir = join(root, 'home', user.name);
        if (!existsSync(dir)) {
          mkdirSync(dir, { mode: 0o700 });
          // Inside the session the real owner shows as the user; as root that owner is the unprivileged one.
          if (runningAsRoot()) chownSync(dir, UNPRIVILEGED_UID, UNPRIVILEGED_UID);
        }
        return dir;
      },
    };
  }
}

export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Runs `true` in the namespaces a session uses, as the user sessions run bwrap as. */
export function probeIsolation(bwrap: string): Isolation {
  if (process.platform !== 'linux') {
    return {
      available: false,
      reason: `bubblewrap needs Linux (this is ${process.platform})`,
      install: 'nothing to install: sessions run as your own user on this platform',
    };
  }
  if (!findExecutable(bwrap)) {
    return {
      available: false,
      reason: 'bubblewrap (bwrap) is not installed',
      install:
        'install bubblewrap: `sudo apt-get install bubblewrap` (Debian, Ubuntu) or `sudo dnf install bubblewrap` (Fedora)',
    };
  }
  const args = [...bwrapPrefix(bwrap), '--unshare-user', '--unshare-pid', '--unshare-uts', '--unshare-ipc'];
  args.push('--ro-bind', '/', '/', '--proc', '/proc', '--', 'true');
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) {
    const why = (result.stderr || result.error?.message || `exit ${result.status}`).trim().split('\n')[0];
    return {
      available: false,
      reason: `bubblewrap cannot create user namespaces here (${why})`,
      install:
        'allow unprivileged user namespaces: `sudo sysctl kernel.unprivileged_userns_clone=1`, and on Ubuntu 24.04+ `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`',
    };
  }
  return { available: true, bwrap };
}

function findExecutable(command: string): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).map((dir) => join(dir, command));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The command that starts bwrap: as root, first dropped to the unprivileged user with no groups. */
export function bwrapPrefix(bwrap: string): string[] {
  return runningAsRoot()
    ? ['setpriv', `--reuid=${UNPRIVILEGED_UID}`, `--regid=${UNPRIVILEGED_UID}`, '--clear-groups', '--', bwrap]
    : [bwrap];
}
