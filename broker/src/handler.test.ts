/**
 * The deployable artifact: scripts/build-broker.mjs bundles the handler into one
 * file, and that file behaves as a Lambda container would at cold start. Each
 * case runs the bundle in a fresh Node process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinModules } from 'node:module';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let outDir: string;
let bundle: string;

interface Metafile {
  outputs: Record<
    string,
    { imports: { path: string; external?: boolean }[]; inputs: Record<string, unknown> }
  >;
}

beforeAll(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'roleshell-broker-build-'));
  // @ts-expect-error: plain ESM build script without type declarations
  const { buildBroker } = (await import('../../scripts/build-broker.mjs')) as {
    buildBroker: (o: { outDir: string }) => Promise<{ outfile: string; bytes: number }>;
  };
  bundle = (await buildBroker({ outDir })).outfile;
}, 60_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

/** Loads the bundle in a fresh process, optionally invokes the handler once, and reports what happened. */
async function coldStart(env: Record<string, string>, event?: unknown) {
  const script = `
    const started = performance.now();
    import(${JSON.stringify(pathToFileURL(bundle).href)}).then(async (mod) => {
      if (${event === undefined ? 'false' : 'true'}) {
        const result = await mod.handler(${JSON.stringify(event ?? null)}, {
          awsRequestId: 'req-cold-1',
          invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:roleshell-broker',
        });
        process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n');
      }
    }, (error) => {
      process.stderr.write('INIT FAILED ' + error.message + '\\n');
      process.exitCode = 3;
    });
  `;
  const cleanEnv = { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', ...env };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: cleanEnv,
      cwd: outDir,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const goodConfig = JSON.stringify({ targetRoleName: 'RoleShellTarget', regions: ['eu-west-1'] });

describe('broker bundle', () => {
  it('is one self-contained file: only Node built-ins stay external', async () => {
    expect((await readdir(outDir)).sort()).toEqual(['index.mjs', 'meta.json']);
    const meta = JSON.parse(await readFile(path.join(outDir, 'meta.json'), 'utf8')) as Metafile;
    const outputs = Object.values(meta.outputs);
    expect(outputs).toHaveLength(1);
    const externals = outputs[0]!.imports.filter((i) => i.external).map((i) => i.path);
    const builtins = new Set(builtinModules);
    expect(externals.filter((p) => !p.startsWith('node:') && !builtins.has(p))).toEqual([]);
  });

  it("takes the function's own credentials from the environment only, as Lambda hands them over", async () => {
    const meta = JSON.parse(await readFile(path.join(outDir, 'meta.json'), 'utf8')) as Metafile;
    const packages = new Set(
      Object.keys(Object.values(meta.outputs)[0]!.inputs).map(
        (input) => /node_modules\/(@aws-sdk\/[^/]+)/.exec(input)?.[1],
      ),
    );
    expect(packages).toContain('@aws-sdk/credential-provider-env');
    for (const unused of [
      '@aws-sdk/credential-provider-node',
      '@aws-sdk/credential-provider-ini',
      '@aws-sdk/credential-provider-sso',
      '@aws-sdk/credential-provider-web-identity',
      '@aws-sdk/nested-clients',
    ])
      expect(packages).not.toContain(unused);
  });

  it('fails the cold start with a message naming each bad config field', async () => {
    const result = await coldStart({
      ROLESHELL_BROKER_CONFIG: JSON.stringify({ regions: ['mars-1'], crossAccount: 'yes' }),
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('INIT FAILED ROLESHELL_BROKER_CONFIG is invalid:');
    for (const field of ['targetRoleName', 'regions.0', 'crossAccount'])
      expect(result.stderr).toContain(field);
  });

  it('fails the cold start when the config is missing', async () => {
    const result = await coldStart({});
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('ROLESHELL_BROKER_CONFIG is not set');
  });

  it('answers a bad request with InvalidRequest and writes one audit line', async () => {
    const result = await coldStart({ ROLESHELL_BROKER_CONFIG: goodConfig }, { action: 'deleteEverything' });
    expect(result.code).toBe(0);
    const resultLine = result.stdout.split('\n').find((line) => line.startsWith('RESULT '));
    expect(JSON.parse(resultLine!.slice('RESULT '.length))).toEqual({
      ok: false,
      error: {
        code: 'InvalidRequest',
        message:
          'Unknown action; use one of listTargets, listTargetsBatch, startSession, terminateSession, resumeSession.',
      },
    });
    const audit = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{"audit"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit).toEqual([
      expect.objectContaining({ requestId: 'req-cold-1', outcome: 'denied', code: 'InvalidRequest' }),
    ]);
  });
});
