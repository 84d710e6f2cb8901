/**
 * What running each session in its instance's namespaces (bubblewrap) costs at
 * the start: SSM StartSession → data channel open → first prompt byte, with
 * namespaces and, in the same run, with isolation off (the fallback).
 */
import { SSMClient, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { DataChannelClient } from '../app/session/dataChannel/client';
import { startSandbox } from '../sandbox/src';
import { clientConfig, permissionSetCredentials, signIn } from '../sandbox/src/testing/sdk';
import { Transcript } from '../sandbox/src/dataChannel/fixtures/harness';
import type { BenchRow } from './types';

const SESSIONS = 15;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** Milliseconds from StartSession to the shell's first prompt (`$ ` / `# `), per session. */
async function timeToPrompt(bwrap: string | undefined): Promise<{ ms: number[]; isolated: boolean }> {
  const sandbox = await startSandbox({ approve: 'alice', ...(bwrap ? { bwrap } : {}) });
  try {
    const { accessToken } = await signIn(sandbox);
    const credentials = await permissionSetCredentials(sandbox, accessToken, '222222222222', 'Developer');
    const ssm = new SSMClient(clientConfig(sandbox, 'eu-west-1', credentials));
    const ms: number[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const start = performance.now();
      const started = await ssm.send(
        new StartSessionCommand({ Target: 'i-0a1b2c3d4e5f60001', DocumentName: 'RoleShell-Developer' }),
      );
      const client = await DataChannelClient.open(started.StreamUrl!, started.TokenValue!);
      // The pty echoes the document's shell profile at once; the prompt comes from the shell.
      const transcript = new Transcript();
      client.on('output', transcript.append);
      await transcript.waitFor(/[$#] $/, 30_000);
      ms.push(performance.now() - start);
      const closed = new Promise((resolve) => client.once('closed', resolve));
      await ssm.send(new TerminateSessionCommand({ SessionId: started.SessionId }));
      await closed;
      client.close();
    }
    ssm.destroy();
    return { ms, isolated: sandbox.isolation.available };
  } finally {
    await sandbox.close();
  }
}

export default async function instanceHostBench(): Promise<BenchRow[]> {
  const plain = await timeToPrompt('/nonexistent/bwrap');
  const isolated = await timeToPrompt(undefined);
  const plainMs = median(plain.ms);
  const isolatedMs = median(isolated.ms);
  if (!isolated.isolated) {
    return [
      {
        figure: `StartSession → first prompt without namespaces (median of ${SESSIONS})`,
        value: round(plainMs),
        unit: 'ms',
        comparedTo: 'with namespaces: not measured, bubblewrap or user namespaces unavailable here',
      },
    ];
  }
  return [
    {
      figure: `StartSession → first prompt in the instance's namespaces (bubblewrap; median of ${SESSIONS})`,
      value: round(isolatedMs),
      unit: 'ms',
      comparedTo: `without namespaces (shell on the machine itself): ${round(plainMs)} ms`,
    },
    {
      figure: 'session start with namespaces / without',
      value: round(isolatedMs / plainMs, 2),
      unit: 'ratio',
      comparedTo: '1.0 = isolation costs nothing at session start',
    },
  ];
}
