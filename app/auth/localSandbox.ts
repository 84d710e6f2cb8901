/**
 * "Try the local sandbox": the sandbox runs as its own child process, from its
 * own bundle (dist/sandbox/sandbox.mjs, scripts/build-sandbox.mjs), started on
 * first use and stopped with the app core. Nothing of sandbox/ is imported
 * here, so none of it (shell agent included) is loaded into the Electron main
 * process. The process is forked by an injected function: Node's
 * `child_process.fork` by default (web host, tests), Electron's
 * `utilityProcess.fork` from main/ (app/ never imports electron).
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromSandbox, ToSandbox } from '../../sandbox/src/child/protocol';
import type { RunningSandbox } from './identityCenter';

const DEFAULT_ORG = path.join('sandbox', 'org', 'default.yaml');
const BUNDLE = path.join('dist', 'sandbox', 'sandbox.mjs');

/** A started sandbox process, as both Node's ChildProcess and Electron's UtilityProcess can present it. */
export interface SandboxProcess {
  readonly pid: number | undefined;
  postMessage(message: ToSandbox): void;
  onMessage(listener: (message: FromSandbox) => void): void;
  onExit(listener: (code: number | null) => void): void;
  /** Ends the process at once (after a clean close timed out). */
  kill(): void;
}

export type ForkSandbox = (entry: string) => SandboxProcess;

/** Node's fork: the child gets the same Node, without the parent's loaders (tsx). */
export const forkNodeSandbox: ForkSandbox = (entry) => {
  const child = fork(entry, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    get pid() {
      return child.pid;
    },
    postMessage: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', (message) => listener(message as FromSandbox)),
    onExit: (listener) => child.on('exit', (code) => listener(code)),
    kill: () => child.kill('SIGKILL'),
  };
};

export interface LocalSandboxOptions {
  /**
   * The app's root: a checkout, or app.asar in a packaged app. Holds dist/sandbox/sandbox.mjs.
   * Default: the checkout above this module or the working directory.
   */
  appDir?: string;
  /**
   * The packaged app's resources folder. When it holds sandbox/default.yaml, that org runs
   * with sandbox/broker.mjs, the broker bundled at build time (no sources, no esbuild).
   */
  resourcesDir?: string;
  fork?: ForkSandbox;
  log?: (line: string) => void;
  /** How long the process may take to report ready (default 60 s). */
  startTimeoutMs?: number;
  /** How long a clean close may take before the process is killed (default 10 s). */
  closeTimeoutMs?: number;
}

export interface LocalSandboxLayout {
  /** The child process's bundle. */
  entry: string;
  start: Extract<ToSandbox, { type: 'start' }>;
}

/**
 * The default org file, looked for above each start folder: once main/ is bundled into
 * dist/main/main.cjs, module-relative paths no longer point into the source tree.
 */
export function findDefaultOrg(starts: string[]): string | undefined {
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      const candidate = path.join(dir, DEFAULT_ORG);
      if (existsSync(candidate)) return candidate;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

function moduleDir(): string | undefined {
  try {
    return path.dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
}

/** Where the bundle, the org file and the broker are: packaged resources, or a checkout. */
export function localSandboxLayout(
  options: Pick<LocalSandboxOptions, 'appDir' | 'resourcesDir'>,
): LocalSandboxLayout {
  const packagedOrg = options.resourcesDir && path.join(options.resourcesDir, 'sandbox', 'default.yaml');
  if (packagedOrg && existsSync(packagedOrg)) {
    const appDir = options.appDir ?? path.dirname(options.resourcesDir!);
    return {
      entry: path.join(appDir, BUNDLE),
      start: {
        type: 'start',
        org: packagedOrg,
        root: path.dirname(packagedOrg),
        brokerBundle: path.join(path.dirname(packagedOrg), 'broker.mjs'),
      },
    };
  }
  const here = moduleDir();
  const org = findDefaultOrg([
    ...(options.appDir ? [options.appDir] : []),
    ...(here ? [here] : []),
    process.cwd(),
  ]);
  if (!org) {
    throw new Error(
      `Cannot find the sandbox's org file (${DEFAULT_ORG} in a checkout, or sandbox/default.yaml in the app's resources)`,
    );
  }
  const checkout = path.dirname(path.dirname(path.dirname(org)));
  return { entry: path.join(options.appDir ?? checkout, BUNDLE), start: { type: 'start', org } };
}

export async function startLocalSandbox(options: LocalSandboxOptions = {}): Promise<RunningSandbox> {
  const log = options.log ?? (() => {});
  const layout = localSandboxLayout(options);
  if (!existsSync(layout.entry)) {
    throw new Error(`The sandbox is not built: ${layout.entry} is missing (npm run build:sandbox builds it)`);
  }
  const child = (options.fork ?? forkNodeSandbox)(layout.entry);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.onExit((code) => {
      exitCode = code;
      resolve();
    }),
  );

  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const ready = await new Promise<Extract<FromSandbox, { type: 'ready' }>>((resolve, reject) => {
    let failure: string | undefined;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the sandbox process did not report ready within ${startTimeoutMs / 1000} s`));
    }, startTimeoutMs);
    child.onMessage((message) => {
      if (message.type === 'log') log(message.line);
      else if (message.type === 'failed') failure = message.message;
      else if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(failure ?? `the sandbox process exited (code ${exitCode}) before it was ready`));
    });
    child.postMessage(layout.start);
  });

  log(`running as process ${child.pid} at ${ready.endpoint}`);
  void exited.then(() => log(`process ${child.pid} exited (code ${exitCode})`));
  let closing: Promise<void> | undefined;
  return {
    pid: child.pid,
    endpoint: ready.endpoint,
    region: ready.region,
    startUrl: ready.startUrl,
    brokerFunctionArn: ready.brokerFunctionArn,
    regions: ready.regions,
    close: () =>
      (closing ??= (async () => {
        if (exitCode !== undefined) return;
        child.postMessage({ type: 'close' });
        const timer = setTimeout(() => child.kill(), options.closeTimeoutMs ?? 10_000);
        await exited;
        clearTimeout(timer);
      })()),
  };
}
