/**
 * Runs one Lambda function: bundles its handler module with esbuild (as the real
 * deployment does) and keeps warm workers, each a worker_thread with its own
 * Lambda-like environment and execution-role credentials issued by the sandbox.
 * A worker serves one invocation at a time, like an execution environment;
 * concurrent invocations get more workers.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { OrgFunction } from '../org/schema';
import type { CredentialStore } from '../identity/principals';
import { randomHex } from '../identity/ids';
import { bundleHandler } from './bundle';
import { WORKER_RUNTIME_SOURCE } from './workerRuntime';

export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvocationResult {
  /** JSON text returned to the caller (the result, or the error object). */
  payload: string;
  functionError?: 'Unhandled';
  coldStart: boolean;
  /** Bundle + worker start + module load, for cold starts. */
  initDurationMs?: number;
  durationMs: number;
  /** What the function wrote to stdout/stderr during this invocation. */
  logs: string;
}

/** Execution-role credentials last this long; a worker is retired before they expire. */
const CREDENTIAL_LIFETIME_SECONDS = 6 * 3600;
const RETIRE_MARGIN_MS = 10 * 60_000;

interface ExecutionEnvironment {
  worker: Worker;
  ready: Promise<FunctionError | undefined>;
  credentialsExpire: number;
  output: string[];
  exited: boolean;
  onExit?: (code: number) => void;
}

export interface FunctionRuntimeOptions {
  fn: OrgFunction;
  /** Project root handler modules are relative to. */
  root: string;
  /** An already-bundled handler to run as it is (no esbuild), instead of bundling `fn.module`. */
  prebuiltBundle?: string;
  /** Scratch folder for bundles and the worker bootstrap. */
  workDir: string;
  credentials: CredentialStore;
  endpoint: () => string;
  log: (line: string) => void;
}

export class FunctionRuntime {
  private bundlePath?: Promise<string>;
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly all = new Set<ExecutionEnvironment>();
  private closed = false;
  private sequence = 0;

  constructor(private readonly options: FunctionRuntimeOptions) {}

  /** Execution environments (workers) alive now, busy or idle. */
  get environmentCount(): number {
    return this.all.size;
  }

  get arn(): string {
    const { fn } = this.options;
    return `arn:aws:lambda:${fn.region}:${fn.account}:function:${fn.name}`;
  }

  /** Bundles ahead of the first invoke, so it is not a slow cold start. */
  prepare(): Promise<void> {
    return this.bundle().then(() => undefined);
  }

  /** Bundles once; a failed bundle is retried on the next invoke (the module may appear later). */
  private bundle(): Promise<string> {
    if (!this.bundlePath) {
      const { fn, root, workDir, prebuiltBundle } = this.options;
      const entry = resolve(root, fn.module);
      const outfile = join(workDir, `${fn.name}.mjs`);
      this.bundlePath = (async () => {
        if (prebuiltBundle) {
          if (!existsSync(prebuiltBundle)) {
            throw new Error(`Cannot find the bundle ${prebuiltBundle} for function ${fn.name}`);
          }
          return resolve(prebuiltBundle);
        }
        if (!existsSync(entry)) {
          throw new Error(
            `Cannot find module ${fn.module} for function ${fn.name} (looked for ${entry}); the sandbox bundles it at the first invoke`,
          );
        }
        await bundleHandler(entry, outfile);
        return outfile;
      })();
      this.bundlePath.catch(() => (this.bundlePath = undefined));
    }
    return this.bundlePath;
  }

  private async start(): Promise<ExecutionEnvironment> {
    const { fn, workDir, credentials, endpoint } = this.options;
    const bundle = await this.bundle();
    if (this.closed) throw new Error('the sandbox is shutting down');
    const runtimePath = join(workDir, 'runtime.cjs');
    if (!existsSync(runtimePath)) writeFileSync(runtimePath, WORKER_RUNTIME_SOURCE);
    const creds = credentials.issue(
      {
        accountId: fn.account,
        roleName: fn.role,
        rolePath: '/',
        sessionName: fn.name,
        lambdaFunction: fn.name,
      },
      CREDENTIAL_LIFETIME_SECONDS,
    );
    const sandboxEndpoint = endpoint();
    const environment: Record<string, string> = {};
    for (const [k, v] of Object.entries(fn.environment))
      environment[k] = v.replaceAll('${SANDBOX_ENDPOINT}', sandboxEndpoint);
    const logStreamName = `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomHex(32)}`;
    const worker = new Worker(runtimePath, {
      // A plain Node runtime, as on Lambda: the bundle needs no loader, and the host's (tsx in
      // development) would otherwise run inside every worker and re-transform the whole bundle.
      execArgv: [],
      stdout: true,
      stderr: true,
      workerData: {
        bundle,
        handler: fn.handler,
        moduleName: fn.module,
        functionName: fn.name,
        memorySize: fn.memorySize,
        logStreamName,
      },
      env: {
        ...environment,
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        TZ: ':UTC',
        LANG: 'en_US.UTF-8',
        AWS_REGION: fn.region,
        AWS_DEFAULT_REGION: fn.region,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
        LAMBDA_TASK_ROOT: workDir,
        AWS_ACCESS_KEY_ID: creds.accessKeyId,
        AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
        AWS_SESSION_TOKEN: creds.sessionToken,
        AWS_ENDPOINT_URL: sandboxEndpoint,
        // Keep the host's ~/.aws out of the function, as on Lambda.
        AWS_CONFIG_FILE: join(workDir, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-aws-credentials'),
      },
    });
    const env: ExecutionEnvironment = {
      worker,
      credentialsExpire: creds.expiration.getTime(),
      output: [],
      exited: false,
      ready: Promise.resolve(undefined),
    };
    const capture = (chunk: Buffer | string) => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      env.output.push(text);
      for (const line of text.split('\n')) if (line) this.options.log(`[lambda ${fn.name}] ${line}`);
    };
    // What the runtime did not catch (a write before its bootstrap, the worker's own errors).
    worker.stdout.on('data', capture);
    worker.stderr.on('data', capture);
    // The runtime's collected stdout/stderr (workerRuntime.ts), between and with results.
    worker.on('message', (m: { type: string; text?: string; logs?: string }) => {
      const text = m.type === 'log' ? m.text : m.logs;
      if (text) capture(text);
    });
    env.ready = new Promise<FunctionError | undefined>((resolveReady) => {
      const onMessage = (m: { type: string; error?: FunctionError }) => {
        if (m.type === 'ready') resolveReady(undefined);
        else if (m.type === 'initError') resolveReady(m.error);
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', (e) =>
        resolveReady({ errorType: 'Runtime.ImportModuleError', errorMessage: e.message }),
      );
    });
    worker.on('exit', (code) => {
      env.exited = true;
      this.all.delete(env);
      const i = this.idle.indexOf(env);
      if (i >= 0) this.idle.splice(i, 1);
      env.onExit?.(code);
    });
    this.all.add(env);
    return env;
  }

  async invoke(payload: string, awsRequestId: string, invokedFunctionArn: string): Promise<InvocationResult> {
    if (this.closed) throw new Error('the sandbox is shutting down');
    const { fn } = this.options;
    const began = performance.now();
    let env: ExecutionEnvironment | undefined;
    while ((env = this.idle.pop())) {
      if (!env.exited && env.credentialsExpire - Date.now() > RETIRE_MARGIN_MS) break;
      void env.worker.terminate();
    }
    const coldStart = !env;
    let initDurationMs: number | undefined;
    if (!env) {
      try {
        env = await this.start();
      } catch (err) {
        const error: FunctionError = {
          errorType: 'Runtime.ImportModuleError',
          errorMessage: (err as Error).message,
        };
        return {
          payload: JSON.stringify(error),
          functionError: 'Unhandled',
          coldStart,
          durationMs: performance.now() - began,
          logs: '',
        };
      }
      const initError = await env.ready;
      initDurationMs = performance.now() - began;
      if (initError) {
        void env.worker.terminate();
        return {
          payload: JSON.stringify(initError),
          functionError: 'Unhandled',
          coldStart,
          initDurationMs,
          durationMs: 0,
          logs: env.output.join(''),
        };
      }
    }
    const live = env;
    live.output.length = 0;
    this.options.log(`[lambda ${fn.name}] START RequestId: ${awsRequestId} Version: $LATEST`);
    const invokeStart = performance.now();
    const id = ++this.sequence;
    const outcome = await new Promise<{ payload: string; error?: FunctionError; keep: boolean }>((done) => {
      const timer = setTimeout(() => {
        cleanup();
        void live.worker.terminate();
        done({
          payload: '',
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `${new Date().toISOString()} ${awsRequestId} Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
          },
          keep: false,
        });
      }, fn.timeoutSeconds * 1000);
      const onMessage = (m: { type: string; id?: number; payload?: string; error?: FunctionError }) => {
        if (m.id !== id) return;
        cleanup();
        if (m.type === 'result') done({ payload: m.payload ?? 'null', keep: true });
        else done({ payload: '', error: m.error, keep: true });
      };
      live.onExit = (code) => {
        cleanup();
        done({
          payload: '',
          error: {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${awsRequestId} Error: Runtime exited with error: exit status ${code}`,
          },
          keep: false,
        });
      };
      const cleanup = () => {
        clearTimeout(timer);
        live.worker.off('message', onMessage);
        live.onExit = undefined;
      };
      live.worker.on('message', onMessage);
      live.worker.postMessage({
        id,
        payload,
        awsRequestId,
        invokedFunctionArn,
        timeoutMs: fn.timeoutSeconds * 1000,
      });
    });
    // Let buffered stdout of this invocation arrive before collecting it.
    await new Promise((r) => setImmediate(r));
    const logs = live.output.join('');
    if (outcome.keep && !live.exited && !this.closed) this.idle.push(live);
    const durationMs = performance.now() - invokeStart;
    this.options.log(
      `[lambda ${fn.name}] REPORT RequestId: ${awsRequestId} Duration: ${durationMs.toFixed(2)} ms${initDurationMs !== undefined ? ` Init Duration: ${initDurationMs.toFixed(2)} ms` : ''}`,
    );
    return outcome.error
      ? {
          payload: JSON.stringify(outcome.error),
          functionError: 'Unhandled',
          coldStart,
          initDurationMs,
          durationMs,
          logs,
        }
      : { payload: outcome.payload, coldStart, initDurationMs, durationMs, logs };
  }

  async close(): Promise<void> {
    this.closed = true;
    // A bundle in progress ends by itself within seconds; wait so no esbuild process outlives us.
    await this.bundlePath?.catch(() => undefined);
    this.idle.length = 0;
    await Promise.all([...this.all].map((e) => e.worker.terminate()));
  }
}
