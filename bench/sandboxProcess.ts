/**
 * A sandbox in a process of its own, for benchmarks (the default org, or a
 * generated one of a given shape): the app core, and a scripted baseline, then
 * share an event loop with nothing of the remote side (agent shells, the
 * broker's Lambda workers, STS, SSM), as when "Try the local sandbox" runs the
 * sandbox as a child process, or as against AWS. The parent asks it over IPC
 * for the AWS calls it served (per API), since its CloudTrail is too large to
 * send whole at thousands of accounts.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateOrg, startSandbox, type Sandbox } from '../sandbox/src/index';

type ToChild = { type: 'calls'; id: number } | { type: 'close' };
type FromChild =
  | { type: 'ready'; endpoint: string; region: string; startUrl: string; brokerFunctionArn: string }
  | {
      type: 'calls';
      id: number;
      counts: [string, number][];
      cpuSeconds: number;
      mainThreadCpuSeconds: number | undefined;
    }
  | { type: 'failed'; message: string };

export interface SandboxProcess {
  endpoint: string;
  region: string;
  startUrl: string;
  brokerFunctionArn: string;
  /** AWS calls served so far, per `service:Operation`. */
  calls(): Promise<Map<string, number>>;
  /** CPU the sandbox has used so far (its process, Lambda workers included), in seconds. */
  cpuSeconds(): Promise<number>;
  /** Of that, its main thread's (HTTP server, SigV4, IAM, services); undefined where Linux's /proc is not. */
  mainThreadCpuSeconds(): Promise<number | undefined>;
  close(): Promise<void>;
}

export interface OrgShape {
  accounts: number;
  permissionSets: number;
  instancesPerAccount: number;
}

export function orgOf(shape: OrgShape) {
  return generateOrg({
    accounts: shape.accounts,
    permissionSets: shape.permissionSets,
    instances: shape.accounts * shape.instancesPerAccount,
  });
}

/** Per `service:Operation`, every call the sandbox served (its CloudTrail keeps only the latest events). */
export function callCounts(sandbox: Sandbox): Map<string, number> {
  return sandbox.callCounts();
}

/** This process's main thread's CPU seconds so far, from Linux's /proc (utime + stime, in USER_HZ = 100 ticks/s); else undefined. */
function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the sandbox (the default org without a shape) in a child process; resolves once it serves. */
export function startSandboxProcess(shape?: OrgShape): Promise<SandboxProcess> {
  // The same loader as this process (tsx under `npm run bench`), so the child runs this file's source.
  const child = fork(fileURLToPath(import.meta.url), shape ? [JSON.stringify(shape)] : [], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const waiting = new Map<number, (answer: Extract<FromChild, { type: 'calls' }>) => void>();
  const ask = () =>
    new Promise<Extract<FromChild, { type: 'calls' }>>((answer) => {
      const id = nextId++;
      waiting.set(id, answer);
      child.send({ type: 'calls', id } satisfies ToChild);
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the sandbox process exited with ${code}`)));
    child.on('message', (message: FromChild) => {
      if (message.type === 'failed') reject(new Error(message.message));
      if (message.type === 'calls') waiting.get(message.id)?.(message);
      if (message.type !== 'ready') return;
      resolve({
        ...message,
        calls: async () => new Map((await ask()).counts),
        cpuSeconds: async () => (await ask()).cpuSeconds,
        mainThreadCpuSeconds: async () => (await ask()).mainThreadCpuSeconds,
        close: () =>
          new Promise((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.send({ type: 'close' } satisfies ToChild);
          }),
      });
    });
  });
}

// In the child: start the sandbox, answer the parent, close when told (or when the parent goes).
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const shape = process.argv[2] ? (JSON.parse(process.argv[2]) as OrgShape) : undefined;
  const send = (message: FromChild) => process.send?.(message);
  const started = startSandbox({
    ...(shape ? { org: orgOf(shape) } : {}),
    approve: 'alice',
    prebundleFunctions: true,
  });
  const close = async () => {
    await (await started.catch(() => undefined))?.close();
    process.exit(0);
  };
  process.on('disconnect', () => void close());
  process.on('message', (message: ToChild) => {
    if (message.type === 'close') void close();
    if (message.type === 'calls')
      void started.then((sandbox) => {
        const counts = callCounts(sandbox);
        const cpu = process.cpuUsage();
        send({
          type: 'calls',
          id: message.id,
          counts: [...counts],
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          mainThreadCpuSeconds: mainThreadCpuSeconds(),
        });
      });
  });
  started.then(
    (sandbox) =>
      send({
        type: 'ready',
        endpoint: sandbox.endpoint,
        region: sandbox.region,
        startUrl: sandbox.startUrl,
        brokerFunctionArn: sandbox.brokerFunctionArn,
      }),
    (error: unknown) => {
      send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
}
