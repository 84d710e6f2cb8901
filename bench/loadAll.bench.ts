/**
 * "Load all" at organisation scale through the real app core (the object the
 * web host and Electron bind) against the sandbox: 1,000 and 5,000 accounts ×
 * 3 permission sets (20 instances per account), batched listTargets. The
 * sandbox runs in a process of its own (bench/sandboxProcess.ts), as "Try the
 * local sandbox" runs it, so the app core's process does only the app's work.
 * In the same run: the unbatched path (one listTargets Invoke per pair, 4 at a
 * time, as "load all" worked before) timed on a sample of pairs and scaled, and
 * the same 1,000-account load with the sandbox inside the app core's process
 * (as this bench ran it before). Each row also counts the AWS calls a load
 * costs, per API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startSandbox } from '../sandbox/src/index';
import type { AllTargets } from '../app/api/calls/browse';
import { dispatchCall } from '../app/api/dispatch';
import { createAppApi, type AppApi } from '../app/createAppApi';
import { mapWithConcurrency } from '../app/portal/backoff';
import { callCounts, orgOf, startSandboxProcess, type SandboxProcess } from './sandboxProcess';
import type { BenchRow } from './types';

const PERMISSION_SETS = 3;
const INSTANCES_PER_ACCOUNT = 20;
const UNBATCHED_SAMPLE_PAIRS = 150;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

type OrgSandbox = Omit<SandboxProcess, 'close'> & { close(): Promise<void> };

interface Org {
  sandbox: OrgSandbox;
  app: AppApi;
  call: <T>(name: string, input?: unknown) => Promise<T>;
  close(): Promise<void>;
}

/** The sandbox in this very process, as the bench ran it before (for the same-run comparison). */
async function inThisProcess(accounts: number): Promise<OrgSandbox> {
  const sandbox = await startSandbox({
    org: orgOf({ accounts, permissionSets: PERMISSION_SETS, instancesPerAccount: INSTANCES_PER_ACCOUNT }),
    approve: 'alice',
    prebundleFunctions: true,
  });
  return {
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    startUrl: sandbox.startUrl,
    brokerFunctionArn: sandbox.brokerFunctionArn,
    calls: async () => callCounts(sandbox),
    // Shares this process: its CPU is counted with the app core's.
    cpuSeconds: async () => 0,
    mainThreadCpuSeconds: async () => undefined,
    close: () => sandbox.close(),
  };
}

async function openOrg(accounts: number, where: 'ownProcess' | 'thisProcess' = 'ownProcess'): Promise<Org> {
  const sandbox =
    where === 'ownProcess'
      ? await startSandboxProcess({
          accounts,
          permissionSets: PERMISSION_SETS,
          instancesPerAccount: INSTANCES_PER_ACCOUNT,
        })
      : await inThisProcess(accounts);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-loadall-bench-'));
  const app = createAppApi({
    dataDir,
    mode: 'web',
    log: (message, error) => console.error(message, error ?? ''),
    env: {
      HOME: dataDir,
      ROLESHELL_START_URL: sandbox.startUrl,
      ROLESHELL_SSO_REGION: sandbox.region,
      ROLESHELL_AWS_ENDPOINT: sandbox.endpoint,
      ROLESHELL_BROKER_ARN: sandbox.brokerFunctionArn,
      ROLESHELL_REGIONS: 'eu-west-1,us-east-1',
    },
  });
  const call = async <T>(name: string, input?: unknown): Promise<T> => {
    const result = await dispatchCall(app.handlers, name, input);
    if (!result.ok) throw new Error(`${name}: ${result.error.message}`);
    return result.value as T;
  };
  await call('auth.signIn');
  for (let i = 0; ; i++) {
    const view = await call<{ state: { status: string } }>('auth.getView');
    if (view.state.status === 'signedIn') break;
    if (i > 600) throw new Error('sign-in did not complete');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await call('browse.listAccounts', {});
  return {
    sandbox,
    app,
    call,
    close: async () => {
      await app.close();
      await sandbox.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Calls per API made between two snapshots. */
function callsBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const made = new Map<string, number>();
  for (const [api, n] of after) {
    const count = n - (before.get(api) ?? 0);
    if (count > 0) made.set(api, count);
  }
  return made;
}
const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
const describeCalls = (counts: Map<string, number>, scale = 1) =>
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([api, n]) => `${api} ${Math.round(n * scale)}`)
    .join(', ');

const ownCpuSeconds = () => {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1e6;
};

async function loadAll(org: Org) {
  const before = await org.sandbox.calls();
  const cpuBefore = ownCpuSeconds() + (await org.sandbox.cpuSeconds());
  const sandboxMainBefore = await org.sandbox.mainThreadCpuSeconds();
  const started = performance.now();
  const all = await org.call<AllTargets>('browse.loadAllTargets', { refresh: true });
  const seconds = (performance.now() - started) / 1000;
  // Both processes' CPU (threads included): steadier than wall time on a shared machine.
  const cpuSeconds = ownCpuSeconds() + (await org.sandbox.cpuSeconds()) - cpuBefore;
  const sandboxMainAfter = await org.sandbox.mainThreadCpuSeconds();
  const sandboxMainSeconds =
    sandboxMainBefore === undefined || sandboxMainAfter === undefined
      ? undefined
      : sandboxMainAfter - sandboxMainBefore;
  const calls = callsBetween(before, await org.sandbox.calls());
  const pairs = all.lists.length + all.failures.length;
  const rows = all.lists.reduce((n, list) => n + list.rows.length, 0);
  if (all.failures.length > 0)
    console.error(`load all: ${all.failures.length} failures, e.g. ${all.failures[0]!.message}`);
  return {
    seconds,
    cpuSeconds,
    sandboxMainSeconds,
    pairs,
    rows,
    failures: all.failures.length,
    invokes: calls.get('lambda:Invoke') ?? 0,
    calls,
  };
}

export default async function loadAllBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  // The sandbox in the app core's process, as this bench ran it before.
  let sameProcessSeconds = 0;
  const shared = await openOrg(1000, 'thisProcess');
  try {
    sameProcessSeconds = (await loadAll(shared)).seconds;
  } finally {
    await shared.close();
  }

  const thousand = await openOrg(1000);
  let perPair1000 = 0;
  let cpuPerPair1000 = 0;
  try {
    // Before: one Invoke per (account, permission set), 4 at a time, on a sample (the whole would take minutes).
    const accounts = await thousand.call<{ accountId: string }[]>('browse.listAccounts', {});
    const named: { accountId: string; permissionSet: string }[] = [];
    for (const { accountId } of accounts) {
      if (named.length >= UNBATCHED_SAMPLE_PAIRS) break;
      const sets = await thousand.call<string[]>('browse.listPermissionSets', { accountId });
      for (const permissionSet of sets) named.push({ accountId, permissionSet });
    }
    const sampleBefore = await thousand.sandbox.calls();
    const unbatchedStart = performance.now();
    await mapWithConcurrency(named, 4, (pair) =>
      thousand.call('browse.listTargets', { ...pair, refresh: true }),
    );
    const unbatchedPerPair = (performance.now() - unbatchedStart) / named.length;
    const unbatchedCalls = callsBetween(sampleBefore, await thousand.sandbox.calls());

    const batched = await loadAll(thousand);
    perPair1000 = batched.seconds / batched.pairs;
    cpuPerPair1000 = batched.cpuSeconds / batched.pairs;
    const unbatchedWhole = (unbatchedPerPair * batched.pairs) / 1000;
    const scale = batched.pairs / named.length;
    rows.push(
      {
        figure: `load all through the app core: 1000 accounts × ${PERMISSION_SETS} permission sets → ${batched.rows} rows (sandbox in its own process)`,
        value: round(batched.seconds, 2),
        unit: 's',
        comparedTo: `one Invoke per pair (before), 4 at a time, measured on ${named.length} pairs in this run: ${round(unbatchedPerPair, 1)} ms/pair → ${round(unbatchedWhole)} s for ${batched.pairs} pairs; ratio ${round(batched.seconds / unbatchedWhole, 3)}; with the sandbox in the app core's process (as this bench ran before): ${round(sameProcessSeconds, 2)} s; CPU of app core + sandbox ${round(batched.cpuSeconds)} s (${round((batched.cpuSeconds / total(batched.calls)) * 1000, 2)} ms per AWS call${batched.sandboxMainSeconds === undefined ? '' : `; the sandbox's main thread ${round(batched.sandboxMainSeconds)} s of it`}); target ≤ 5 s`,
      },
      {
        figure: `broker Invokes for that load all (${batched.pairs} pairs)`,
        value: batched.invokes,
        unit: 'Invokes',
        comparedTo: `${round(batched.pairs / Math.max(1, batched.invokes))} pairs per Invoke (target ≥ 25); before: ${batched.pairs}`,
      },
      {
        figure: `AWS calls the sandbox served for that load all (${batched.pairs} pairs)`,
        value: total(batched.calls),
        unit: 'calls',
        comparedTo: `${describeCalls(batched.calls)}; one Invoke per pair (before), scaled from ${named.length} pairs in this run: ${Math.round(total(unbatchedCalls) * scale)} (${describeCalls(unbatchedCalls, scale)})`,
      },
    );
  } finally {
    await thousand.close();
  }

  const fiveThousand = await openOrg(5000);
  try {
    const batched = await loadAll(fiveThousand);
    const perPair = batched.seconds / batched.pairs;
    rows.push({
      figure: `load all through the app core: 5000 accounts × ${PERMISSION_SETS} permission sets → ${batched.rows} rows (sandbox in its own process)`,
      value: round(batched.seconds, 2),
      unit: 's',
      comparedTo: `${round(perPair * 1000, 2)} ms/pair vs ${round(perPair1000 * 1000, 2)} ms/pair at 1000 accounts (ratio ${round(perPair / perPair1000, 2)}; ≤ 1 is linear or better); CPU ${round((batched.cpuSeconds / batched.pairs) * 1000, 2)} ms/pair vs ${round(cpuPerPair1000 * 1000, 2)} (ratio ${round(batched.cpuSeconds / batched.pairs / cpuPerPair1000, 2)}); ${batched.invokes} Invokes, ${batched.failures} failures; ${total(batched.calls)} AWS calls: ${describeCalls(batched.calls)}`,
    });
  } finally {
    await fiveThousand.close();
  }
  return rows;
}

// Run directly: npx tsx bench/loadAll.bench.ts
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  loadAllBench().then(
    (rows) => console.table(rows),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
