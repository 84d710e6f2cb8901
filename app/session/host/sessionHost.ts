/**
 * The core's handle on the session host process: starts it on first use,
 * checks every message it sends, routes them to the session they belong to,
 * and reports every hosted session closed if the process dies. Nothing here
 * waits on the host without a timeout, so a hung host cannot freeze the core.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostToCore, type CoreToHost, type HostProcess, type HostSpawner, type HostToCore } from './protocol';

export type HostedMessage = Exclude<HostToCore, { type: 'ready' }>;

/** `child_process.fork` of hostMain (TypeScript through tsx in a checkout, the bundled .cjs when built). */
export function forkSessionHost(entry = defaultHostEntry()): HostProcess {
  const child = fork(entry, [], {
    execArgv: entry.endsWith('.ts') ? ['--import', 'tsx'] : [],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    pid: child.pid,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.once('exit', (code) => listener(code)),
    kill: () => child.kill('SIGKILL'),
  };
}

function defaultHostEntry(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = path.join(here, 'sessionHost.cjs');
  return existsSync(bundled) ? bundled : path.join(here, 'hostMain.ts');
}

export class SessionHost {
  private process: HostProcess | undefined;
  private readonly listeners = new Map<string, (message: HostedMessage) => void>();
  private exited: Promise<void> | undefined;

  constructor(
    private readonly spawn: HostSpawner = () => forkSessionHost(),
    private readonly log: (message: string) => void = () => {},
  ) {}

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Routes this session's messages to `listener` until it closes. */
  register(id: string, listener: (message: HostedMessage) => void): void {
    this.listeners.set(id, listener);
  }

  send(message: CoreToHost): void {
    this.ensure().send(message);
  }

  /** Starts the host process ahead of the first session (it then stays, as it does after one). */
  warm(): void {
    this.ensure();
  }

  private ensure(): HostProcess {
    if (this.process) return this.process;
    const child = this.spawn();
    this.process = child;
    let resolveExit!: () => void;
    this.exited = new Promise((resolve) => (resolveExit = resolve));
    child.onMessage((raw) => {
      const parsed = hostToCore.safeParse(raw);
      if (!parsed.success) {
        this.log('session host sent a message that is not in the protocol; dropped');
        return;
      }
      const message = parsed.data;
      if (message.type === 'ready') return;
      const listener = this.listeners.get(message.id);
      if (message.type === 'closed') this.listeners.delete(message.id);
      listener?.(message);
    });
    child.onExit((code) => {
      if (this.process === child) this.process = undefined;
      resolveExit();
      const orphans = [...this.listeners.entries()];
      this.listeners.clear();
      if (orphans.length > 0)
        this.log(`session host exited (code ${code}) with ${orphans.length} session(s)`);
      for (const [id, listener] of orphans) {
        listener({ type: 'closed', id, reason: 'The session host stopped unexpectedly.', failed: true });
      }
    });
    return child;
  }

  /** Asks the host to end every session and exit; kills it if it has not gone within `timeoutMs`. */
  async shutdown(timeoutMs = 3000): Promise<void> {
    const child = this.process;
    if (!child) return;
    child.send({ type: 'shutdown' });
    const gone = await Promise.race([
      this.exited!.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
    ]);
    if (!gone) {
      this.log(`session host did not exit within ${timeoutMs} ms; killed`);
      child.kill();
      await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
  }
}
