/**
 * Session broker figures: bundle size, cold-start init of the bundle in a
 * fresh worker, and warm startSession latency through the sandbox's real
 * Lambda Invoke path (median and p99 over 200 calls), each next to its floor.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { InvokeCommand, LambdaClient, LogType } from '@aws-sdk/client-lambda';
import { startSandbox } from '../sandbox/src/index';
import { BrokerInvoker, proofFor, roleCredentials, signIn } from '../broker/src/fixtures/sandboxCaller';
import type { StartSessionResult } from '../broker/src/contract';
import type { BenchRow } from './types';

const WARM_CALLS = 200;
const COLD_STARTS = 10;
const ACCOUNT = '222222222222';
const INSTANCE = 'i-0a1b2c3d4e5f60001';

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
      buildBroker: (o?: { outDir?: string; minify?: boolean }) => Promise<{ outfile: string; bytes: number }>;
    };
    const minified = await buildBroker({ outDir: path.join(dir, 'min') });
    const plain = await buildBroker({ outDir: path.join(dir, 'plain'), minify: false });
    rows.push({
      figure: 'broker bundle size (esbuild, minified, AWS SDK v3 bundled)',
      value: round(minified.bytes / 1024, 1),
      unit: 'KiB',
      comparedTo: `unminified bundle ${round(plain.bytes / 1024, 1)} KiB; Lambda's limit is 250 MB unzipped`,
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
    const floor: number[] = [];
    for (let i = 0; i < COLD_STARTS; i++) {
      cold.push(await timeFreshImport(pathToFileURL(minified.outfile).href, env));
      floor.push(await timeFreshImport(pathToFileURL(emptyModule).href, env));
    }
    rows.push({
      figure: `broker cold-start init (fresh worker: load bundle, validate config, create clients; median of ${COLD_STARTS})`,
      value: round(percentile(cold, 50)),
      unit: 'ms',
      comparedTo: `importing an empty handler module in a fresh worker: ${round(percentile(floor, 50))} ms`,
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

    for (let i = 0; i < 5; i++) await startAndEnd();
    const warm: number[] = [];
    for (let i = 0; i < WARM_CALLS; i++) warm.push(await startAndEnd());

    const stsClient = new STSClient({
      region: sandbox.region,
      endpoint: sandbox.endpoint,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
    });
    const identityFloor: number[] = [];
    const invokeFloor: number[] = [];
    for (let i = 0; i < WARM_CALLS; i++) {
      let started = performance.now();
      await stsClient.send(new GetCallerIdentityCommand({}));
      identityFloor.push(performance.now() - started);
      started = performance.now();
      await invoker.invoke(credentials, { action: 'unknownAction' });
      invokeFloor.push(performance.now() - started);
    }
    stsClient.destroy();

    const floorText = `floors: warm STS GetCallerIdentity round trip median ${round(percentile(identityFloor, 50))} ms; warm Invoke refused before any AWS call median ${round(percentile(invokeFloor, 50))} ms`;
    rows.push(
      {
        figure: `warm startSession through sandbox Lambda Invoke, median of ${WARM_CALLS}`,
        value: round(percentile(warm, 50)),
        unit: 'ms',
        comparedTo: floorText,
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
