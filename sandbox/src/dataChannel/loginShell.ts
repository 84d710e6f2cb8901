/**
 * The session's shell: a login shell in a pty as the run-as Linux user.
 *
 * On a sandbox instance (an `InstanceHost`) with bubblewrap usable, the shell
 * runs in new user, UTS, PID, IPC and mount namespaces: the instance's
 * hostname, passwd and group, the host's root filesystem read-only, a private
 * /tmp, only the user's own home writable, no capabilities and no way to
 * become another user (one uid mapped, no_new_privs). A run-as user the
 * instance lacks fails as on AWS.
 *
 * Elsewhere (no bubblewrap, user namespaces refused, or a target the org does
 * not know): as root, and when that user exists on the machine, `setpriv`
 * switches to the user's uid, gid and groups before exec; otherwise the shell
 * runs as whoever runs the sandbox, and the session says so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, relative } from 'node:path';
import * as pty from 'node-pty';
import { bwrapPrefix, type InstanceHost, type Isolation } from './instanceHost';

/** The agent's own error when the run-as user is missing (agent/session/shell), which the plugin prints. */
export class RunAsUserMissingError extends Error {
  constructor(user: string) {
    super(`failed to start pty since RunAs user ${user} does not exist`);
    this.name = 'RunAsUserMissingError';
  }
}

export interface LinuxUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface LoginShell {
  pty: pty.IPty;
  /** The Linux user the shell actually runs as. */
  user: string;
  /** Set when the shell does not run as the requested user: why, for the CustomerMessage. */
  notice?: string;
}

export function lookUpLinuxUser(name: string): LinuxUser | undefined {
  if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(name)) return undefined;
  let entry: string;
  try {
    entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    return undefined; // getent exits 2 for an unknown user
  }
  const [user, , uid, gid, , home, shell] = entry.split(':');
  if (!user || uid === undefined || gid === undefined) return undefined;
  return { name: user, uid: Number(uid), gid: Number(gid), home: home || '/', shell: shell || '/bin/sh' };
}

const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ShellPlace {
  host?: InstanceHost;
  isolation?: Isolation;
  /**
   * The session document's shell profile. The real agent types it into the new
   * shell, so it is echoed above the first prompt ("cd ~ && exec bash -l");
   * here the shell runs it before it becomes the interactive shell, so the
   * user sees only their prompt. Exported variables and the directory carry
   * over; shell-local state (aliases, functions) belongs in startup files.
   */
  profile?: string;
}

/**
 * The shell's arguments: `interactive` as is, or, with a profile, `-c` running
 * the profile and then the interactive shell in its place (unless the profile
 * has already exec'd one itself, as `cd ~ && exec bash -l` does).
 */
export function shellArguments(shellPath: string, interactive: string[], profile?: string): string[] {
  const script = profile?.trim();
  if (!script) return interactive;
  return ['-c', `${script}\nexec "$0" ${interactive.join(' ')}`, shellPath];
}

export function spawnLoginShell(
  runAsUser: string,
  size: { cols: number; rows: number },
  place: ShellPlace = {},
): LoginShell {
  const base = { name: 'xterm-256color', cols: size.cols, rows: size.rows, encoding: null } as const;
  const { host, isolation, profile } = place;
  if (host && !host.users.some((u) => u.name === runAsUser)) throw new RunAsUserMissingError(runAsUser);
  if (host && isolation?.available) return spawnInInstance(host, isolation.bwrap, runAsUser, base, profile);
  const noIsolation =
    host && isolation && !isolation.available ? `${isolation.reason}; ${isolation.install}` : '';
  const runningAsRoot = process.getuid?.() === 0;
  const target = runningAsRoot ? lookUpLinuxUser(runAsUser) : undefined;
  if (target) {
    const env = {
      HOME: target.home,
      USER: target.name,
      LOGNAME: target.name,
      SHELL: target.shell,
      PATH: SAFE_PATH,
      TERM: base.name,
      LANG: process.env.LANG ?? 'C.UTF-8',
    };
    const shell = pty.spawn(
      'setpriv',
      [
        `--reuid=${target.uid}`,
        `--regid=${target.gid}`,
        '--init-groups',
        '--',
        target.shell,
        ...shellArguments(target.shell, ['-l'], profile),
      ],
      // Like su -l: a missing home directory logs in at /.
      { ...base, cwd: existsSync(target.home) ? target.home : '/', env },
    );
    const notice = noIsolation
      ? `This sandbox shell runs on the machine itself, not in instance ${host!.hostname}'s own namespaces: ${noIsolation}.`
      : undefined;
    return { pty: shell, user: target.name, ...(notice ? { notice } : {}) };
  }
  const me = userInfo();
  const shellPath = me.shell || '/bin/sh';
  const env = {
    HOME: me.homedir,
    USER: me.username,
    LOGNAME: me.username,
    SHELL: shellPath,
    PATH: process.env.PATH ?? SAFE_PATH,
    TERM: base.name,
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
  // The sandbox's own user is the developer: their startup files are not the instance's, and can wait
  // on locks a killed shell left behind (pyenv's rehash lock hung every later shell), so none are read.
  const shell = pty.spawn(shellPath, shellArguments(shellPath, withoutStartupFiles(shellPath), profile), {
    ...base,
    cwd: me.homedir,
    env,
  });
  const why =
    noIsolation ||
    (runningAsRoot
      ? `Linux user ${runAsUser} does not exist on this sandbox instance`
      : 'the sandbox is not running as root');
  return {
    pty: shell,
    user: me.username,
    notice: `This sandbox shell runs as ${me.username}, not ${runAsUser}: ${why}.`,
  };
}

/** Folders each session gets empty and its own (tmpfs). */
const PRIVATE_DIRS = ['/tmp', '/var/tmp', '/run', '/home', '/root'];

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function spawnInInstance(
  host: InstanceHost,
  bwrap: string,
  runAsUser: string,
  base: { name: string; cols: number; rows: number; encoding: null },
  profile: string | undefined,
): LoginShell {
  const user = host.users.find((u) => u.name === runAsUser)!;
  const shellPath = existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';
  const env: Record<string, string> = {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    SHELL: shellPath,
    PATH: SAFE_PATH,
    TERM: base.name,
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
  // prettier-ignore
  const args = [
    '--unshare-user', '--unshare-uts', '--unshare-pid', '--unshare-ipc', '--unshare-cgroup-try',
    '--uid', String(user.uid), '--gid', String(user.gid), '--hostname', host.hostname,
    '--ro-bind', '/', '/',
    '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--tmpfs', '/var/tmp', '--tmpfs', '/run',
    // None of the machine's own users' homes, and no other instance's homes.
    '--tmpfs', '/home', '--tmpfs', '/root',
    ...(PRIVATE_DIRS.some((dir) => isInside(host.stateDir, dir)) ? [] : ['--tmpfs', host.stateDir]),
    '--bind', host.homeOnDisk(user), user.home,
    '--ro-bind', host.passwdFile, '/etc/passwd', '--ro-bind', host.groupFile, '/etc/group',
    '--remount-ro', '/home',
    '--cap-drop', 'ALL', '--die-with-parent', '--clearenv',
    ...Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]),
    '--chdir', user.home,
    '--', shellPath, ...shellArguments(shellPath, ['-l'], profile),
  ];
  const [command, ...prefix] = bwrapPrefix(bwrap);
  // bwrap's --clearenv sets the shell's environment; bwrap itself needs none of the sandbox's.
  const shell = pty.spawn(command!, [...prefix, ...args], { ...base, cwd: '/', env: { PATH: SAFE_PATH } });
  return { pty: shell, user: user.name };
}

/** Every process in the Linux session led by `sessionId` (the pty's first process). */
export function sessionProcesses(sessionId: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may contain spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // state ppid pgrp session ...
      if (Number(fields[3]) === sessionId && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/**
 * Kills every process of the shell's session (job-control groups included),
 * repeating while any appear. The leader is killed by pid too: right after
 * spawn it may not have called setsid() yet, and would then escape the scan.
 */
export function killSession(sessionId: number, options: { leaderAlive: boolean }): void {
  // Once the leader has been reaped its pid may belong to someone else: then only the scan is
  // safe (Linux does not reuse a pid while any process still has it as its session id).
  if (options.leaderAlive) {
    try {
      process.kill(sessionId, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (let round = 0; round < 10; round++) {
    const pids = sessionProcesses(sessionId);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Arguments that start an interactive shell without the user's profile or rc files. */
function withoutStartupFiles(shellPath: string): string[] {
  const name = shellPath.split('/').pop() ?? '';
  if (name === 'bash') return ['--noprofile', '--norc'];
  if (name === 'zsh') return ['-f'];
  // A POSIX sh that is not a login shell reads only $ENV, which the environment above leaves unset.
  return [];
}
