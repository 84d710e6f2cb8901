import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '../identity/principals';
import { FunctionRuntime } from './functionRuntime';

const root = resolve(import.meta.dirname, '../../..');
let workDir: string | undefined;
afterEach(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
});

function runtime(module = 'sandbox/test-fixtures/lambda/concurrent.ts') {
  workDir = mkdtempSync(join(tmpdir(), 'roleshell-runtime-test-'));
  return new FunctionRuntime({
    fn: {
      name: 'concurrent',
      account: '111111111111',
      region: 'eu-west-1',
      module,
      handler: 'handler',
      role: 'RoleShellBrokerExecution',
      environment: {},
      invokers: ['org'],
      timeoutSeconds: 30,
      memorySize: 128,
    },
    root,
    workDir,
    credentials: new CredentialStore(),
    endpoint: () => 'http://127.0.0.1:9',
    log: () => {},
  });
}

type Run = { threadId: number; start: number; end: number; execArgv: string[] };

describe('FunctionRuntime', () => {
  it('runs concurrent invocations in concurrent workers, as Lambda scales out, and reuses them warm', async () => {
    const rt = runtime();
    try {
      const invoke = (ms: number) =>
        rt
          .invoke(JSON.stringify({ ms }), `req-${Math.random()}`, rt.arn)
          .then((r) => JSON.parse(r.payload) as Run);
      const runs = await Promise.all([400, 400, 400, 400].map(invoke));
      // Every invocation was in flight while every other one was: they overlapped, none waited for a worker.
      expect(Math.max(...runs.map((r) => r.start))).toBeLessThan(Math.min(...runs.map((r) => r.end)));
      expect(new Set(runs.map((r) => r.threadId)).size).toBe(4);
      expect(rt.environmentCount).toBe(4);
      // A plain runtime, as on Lambda: none of the host's flags or loaders (vitest's, tsx's) run in it.
      expect(runs.map((r) => r.execArgv)).toEqual([[], [], [], []]);
      // Warm: the next wave reuses the same workers instead of starting new ones.
      const again = await Promise.all([50, 50, 50, 50].map(invoke));
      expect(new Set(again.map((r) => r.threadId))).toEqual(new Set(runs.map((r) => r.threadId)));
      expect(rt.environmentCount).toBe(4);
    } finally {
      await rt.close();
    }
    expect(rt.environmentCount).toBe(0);
  });

  it("accepts a function's writes at once and returns them, in order, with its invocation", async () => {
    const rt = runtime('sandbox/test-fixtures/lambda/logger.ts');
    try {
      const first = await rt.invoke(JSON.stringify({ lines: 500 }), 'req-1', rt.arn);
      expect(JSON.parse(first.payload)).toEqual({ written: 500 });
      const lines = first.logs.split('\n').filter(Boolean);
      expect(lines).toEqual([...Array.from({ length: 500 }, (_, i) => `line ${i}`), 'done']);
      // The next invocation's logs are its own.
      const second = await rt.invoke(JSON.stringify({ lines: 1 }), 'req-2', rt.arn);
      expect(second.logs).toBe('line 0\ndone\n');
    } finally {
      await rt.close();
    }
  });

  it('ends every worker on close, idle and busy alike', async () => {
    const rt = runtime();
    await Promise.all([0, 0].map((ms) => rt.invoke(JSON.stringify({ ms }), 'warm', rt.arn)));
    const busy = rt.invoke(JSON.stringify({ ms: 60_000 }), 'busy', rt.arn);
    const otherBusy = rt.invoke(JSON.stringify({ ms: 60_000 }), 'busy-2', rt.arn);
    while (rt.environmentCount < 2) await new Promise((r) => setTimeout(r, 10));
    await rt.close();
    expect(rt.environmentCount).toBe(0);
    // The in-flight invocations end (with the runtime's exit error) instead of hanging for a minute.
    for (const result of await Promise.all([busy, otherBusy])) expect(result.functionError).toBe('Unhandled');
  });
});
