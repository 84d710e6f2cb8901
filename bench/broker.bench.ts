/**
 * Session broker figures: bundle size, cold-start init of the bundle in a
 * fresh worker, and warm startSession latency through the sandbox's real
 * Lambda Invoke path (median and p99 over 200 calls), each next to its floor.
 * Size and cold start are also measured, in the same run, for the broker as it
 * was at BASELINE_COMMIT (EC2 DescribeInstances for tags), built from git with
 * the same esbuild settings, so the rows carry the ratio.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { InvokeCommand, LambdaClient, LogType } from '@aws-sdk/client-lambda';
import { startSandbox } from '../sandbox/src/index';
import { BrokerInvoker, proofFor, roleCredentials, signIn } from '../broker/src/fixtures/sandboxCaller';
import type { StartSessionResult } from '../broker/src/contract';
import type { BenchRow } from './types';

const WARM_CALLS = 200;
/** Calls of each kind made before measuring (not counted). */
const WARM_UP_CALLS = 200;
const COLD_STARTS = 10;
const ACCOUNT = '222222222222';
const INSTANCE = 'i-0a1b2c3d4e5f60001';
/** main just before this branch's broker work was merged in (EC2 DescribeInstances for tags, sec-broker's IAM check included). */
const BASELINE_COMMIT = '8c4a3a74828b4fb8f3cc80b8118c12c785629c49';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The baseline commit's broker/src, extracted from git into `dir`; undefined without git history. */
async function baselineSource(dir: string): Promise<string | undefined> {
  const run = promisify(execFile);
  try {
    await mkdir(dir, { recursive: true });
    const archive = path.join(dir, 'broker.tar');
    await run('git', ['-C', repoRoot, 'archive', '-o', archive, BASELINE_COMMIT, 'broker/src']);
    await run('tar', ['-xf', archive, '-C', dir]);
    return dir;
  } catch (error) {
    console.error(`broker bench: no baseline (${(error as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Milliseconds to import `moduleUrl` in a brand-new worker (fresh module graph, fresh SDK clients). */
function timeFreshImport(moduleUrl: string, env: Record<string, string>): Promise<number> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const start = performance.now();
    import(workerData.moduleUrl).then(() => parentPort.postMessage(performance.now() - start), (e) => parentPort.postMessage('error: ' + e.message));
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, {
      eval: true,
      workerData: { moduleUrl },
      env: { ...process.env, ...env },
    });
    worker.once('message', (value: number | string) => {
      void worker.terminate();
      if (typeof value === 'string') reject(new Error(value));
      else resolve(value);
    });
    worker.once('error', reject);
  });
}

export default async function brokerBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-broker-bench-'));
  try {
    // @ts-expect-error: plain ESM build script without type declarations
    const { buildBroker } = (await import('../scripts/build-broker.mjs')) as {
      buildBroker: (o?: {
        outDir?: string;
        minify?: boolean;
        sourceDir?: string;
      }) => Promise<{ outfile: string; bytes: number }>;
    };
    const minified = await buildBroker({ outDir: path.join(dir, 'min') });
    const plain = await buildBroker({ outDir: path.join(dir, 'plain'), minify: false });
    const baselineDir = await baselineSource(path.join(dir, 'baseline-src'));
    const baseline = baselineDir
      ? await buildBroker({ outDir: path.join(dir, 'baseline'), sourceDir: baselineDir })
      : undefined;
    const baselineName = `the broker at ${BASELINE_COMMIT.slice(0, 7)} (EC2 client)`;
    rows.push({
      figure: 'broker bundle size (esbuild, minified, AWS SDK v3 bundled)',
      value: round(minified.bytes / 1024, 1),
      unit: 'KiB',
      comparedTo: `${baseline ? `${baselineName}: ${round(baseline.bytes / 1024, 1)} KiB, ratio ${round(minified.bytes / baseline.bytes)}; ` : ''}target < 600 KiB; unminified bundle ${round(plain.bytes / 1024, 1)} KiB; Lambda's limit is 250 MB unzipped`,
    });

    const env = {
      AWS_REGION: 'eu-west-1',
      // The SDK's one-line notice that Node 20 support ends in 2027; it is noise in a timing loop.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ROLESHELL_BROKER_CONFIG: JSON.stringify({ targetRoleName: 'RoleShellTarget', regions: ['eu-west-1'] }),
    };
    const emptyModule = path.join(dir, 'empty.mjs');
    await writeFile(emptyModule, 'export const handler = async () => ({});\n');
    const cold: number[] = [];
    const baselineCold: number[] = [];
    const floor: number[] = [];
    // Interleaved, so machine noise falls on both alike.
    for (let i = 0; i < COLD_STARTS; i++) {
      cold.push(await timeFreshImport(pathToFileURL(minified.outfile).href, env));
      if (baseline) baselineCold.push(await timeFreshImport(pathToFileURL(baseline.outfile).href, env));
      floor.push(await timeFreshImport(pathToFileURL(emptyModule).href, env));
    }
    const coldMedian = percentile(cold, 50);
    rows.push({
      figure: `broker cold-start init (fresh worker: load bundle, validate config, create clients; median of ${COLD_STARTS})`,
      value: round(coldMedian),
      unit: 'ms',
      comparedTo: `${baseline ? `${baselineName}: ${round(percentile(baselineCold, 50))} ms, ratio ${round(coldMedian / percentile(baselineCold, 50))} (target ≤ 0.6); ` : ''}importing an empty handler module in a fresh worker: ${round(percentile(floor, 50))} ms`,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const sandbox = await startSandbox({ approve: 'alice' });
  const invoker = new BrokerInvoker(sandbox);
  try {
    const token = await signIn(sandbox, 'alice');
    const credentials = await roleCredentials(sandbox, token, ACCOUNT, 'Developer');
    const request = { action: 'startSession', region: 'eu-west-1', instanceId: INSTANCE };

    const startAndEnd = async (): Promise<number> => {
      const identity = await proofFor(sandbox, credentials, request);
      const started = performance.now();
      const response = await invoker.invoke(credentials, { ...request, identity });
      const elapsed = performance.now() - started;
      if (!response.ok)
        throw new Error(`startSession failed: ${response.error.code} ${response.error.message}`);
      const { SessionId } = (response as StartSessionResult).session;
      const ended = await invoker.call(credentials, {
        action: 'terminateSession',
        region: 'eu-west-1',
        sessionId: SessionId,
      });
      if (!ended.ok) throw new Error(`terminateSession failed: ${ended.error.code}`);
      return elapsed;
    };

    // The very first call goes out with LogType Tail to read the runtime's REPORT line.
    const lambda = new LambdaClient({ region: sandbox.region, endpoint: sandbox.endpoint, credentials });
    const coldStarted = performance.now();
    const coldOutput = await lambda.send(
      new InvokeCommand({
        FunctionName: sandbox.brokerFunctionArn,
        LogType: LogType.Tail,
        Payload: new TextEncoder().encode(
          JSON.stringify({ ...request, identity: await proofFor(sandbox, credentials, request) }),
        ),
      }),
    );
    const first = performance.now() - coldStarted;
    lambda.destroy();
    const coldResponse = JSON.parse(new TextDecoder().decode(coldOutput.Payload)) as StartSessionResult;
    if (!coldResponse.ok) throw new Error('cold startSession failed');
    await invoker.call(credentials, {
      action: 'terminateSession',
      region: 'eu-west-1',
      sessionId: coldResponse.session.SessionId,
    });
    const report = Buffer.from(coldOutput.LogResult ?? '', 'base64').toString('utf8');
    const initDuration = Number(/Init Duration: ([\d.]+) ms/.exec(report)?.[1] ?? NaN);
    const firstDuration = Number(/\tDuration: ([\d.]+) ms/.exec(report)?.[1] ?? NaN);

    const stsClient = new STSClient({
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
    });
    const timed = async (call: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await call();
      return performance.now() - started;
    };
    const refusedInvoke = () => timed(() => invoker.invoke(credentials, { action: 'unknownAction' }));
    const stsRoundTrip = () => timed(() => stsClient.send(new GetCallerIdentityCommand({})));
    // A warm container serves many requests: V8 has not finished optimizing the SDK's hot paths
    // after a handful (the median keeps falling over the first few hundred calls). Both paths
    // are warmed alike, then measured call by call in turn, so the ratio compares like with like.
    const warmUp: number[] = [];
    for (let i = 0; i < WARM_UP_CALLS; i++) {
      warmUp.push(await startAndEnd());
      await refusedInvoke();
      await stsRoundTrip();
    }
    const warm: number[] = [];
    const identityFloor: number[] = [];
    const invokeFloor: number[] = [];
    for (let i = 0; i < WARM_CALLS; i++) {
      warm.push(await startAndEnd());
      invokeFloor.push(await refusedInvoke());
      identityFloor.push(await stsRoundTrip());
    }
    stsClient.destroy();

    const refusedFloor = percentile(invokeFloor, 50);
    const floorText = `floors, measured in turn with each startSession: warm STS GetCallerIdentity round trip median ${round(percentile(identityFloor, 50))} ms; warm Invoke refused before any AWS call median ${round(refusedFloor)} ms`;
    rows.push(
      {
        figure: `warm startSession through sandbox Lambda Invoke, median of ${WARM_CALLS}`,
        value: round(percentile(warm, 50)),
        unit: 'ms',
        comparedTo: `${round(percentile(warm, 50) / refusedFloor)}× the refused-invoke floor (target ≤ 3×), after ${WARM_UP_CALLS} warm-up calls of each kind (their startSession median ${round(percentile(warmUp, 50))} ms); ${floorText}`,
      },
      {
        figure: `warm startSession through sandbox Lambda Invoke, p99 of ${WARM_CALLS}`,
        value: round(percentile(warm, 99)),
        unit: 'ms',
        comparedTo: `median ${round(percentile(warm, 50))} ms; ${floorText}`,
      },
      {
        figure: 'first startSession after sandbox start, client round trip (cold container, empty caches)',
        value: round(first),
        unit: 'ms',
        comparedTo: `warm median ${round(percentile(warm, 50))} ms; the sandbox's REPORT: Init Duration ${round(initDuration)} ms (includes its esbuild bundling of the handler and the worker start), Duration ${round(firstDuration)} ms (first request: AssumeRole, GetDocument, no warm connections)`,
      },
    );
  } finally {
    invoker.destroy();
    await sandbox.close();
  }
  return rows;
}

// Run directly: npx tsx bench/broker.bench.ts
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  brokerBench().then(
    (rows) => console.table(rows),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
