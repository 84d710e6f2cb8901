/**
 * Conformance with AWS's own client: runs the official session-manager-plugin
 * (named by SESSION_MANAGER_PLUGIN, as the app's setting is) in a pty against a
 * sandbox session, exactly as the AWS CLI would start it. The plugin cannot be
 * installed from the registries our CI reaches, so this runs only where a
 * developer has it; everywhere else it is skipped and says why.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import * as pty from 'node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../index';
import { clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';
import { ensureLinuxUser, runningAsRoot, Transcript } from './fixtures/harness';
import type { FaultOptions } from './index';

const plugin = process.env.SESSION_MANAGER_PLUGIN;
const havePlugin = plugin !== undefined && existsSync(plugin);
const PROD = '222222222222';
const PROD_WEB_1 = 'i-0a1b2c3d4e5f60001';

const channels: Array<[string, FaultOptions | undefined]> = [
  ['a clean channel', undefined],
  // The plugin's own acks, resends and ordering buffer meet the agent's under loss.
  ['10 % loss, duplication and reordering both ways', { drop: 0.1, duplicate: 0.1, reorder: 0.1, seed: 7 }],
];

// Skipped unless SESSION_MANAGER_PLUGIN names the plugin (npm and Debian do not carry it).
describe.runIf(havePlugin)('AWS session-manager-plugin against the sandbox (SESSION_MANAGER_PLUGIN)', () => {
  describe.each(channels)('over %s', (_, faults) => {
    let sandbox: Sandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ approve: 'alice', log: () => {}, dataChannelFaults: faults });
      // Without bubblewrap the shell runs on the machine itself, as its own developer user when root.
      if (!sandbox.isolation.available && runningAsRoot) ensureLinuxUser('developer');
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('opens a shell as the run-as user, follows resizes, carries output intact and exits with channel_closed', async () => {
      const { accessToken } = await signIn(sandbox);
      const credentials = await permissionSetCredentials(sandbox, accessToken, PROD, 'Developer');
      const ssm = new SSMClient(clientConfig(sandbox, sandbox.region, credentials));
      const started = await ssm.send(
        new StartSessionCommand({ Target: PROD_WEB_1, DocumentName: 'RoleShell-Developer' }),
      );
      ssm.destroy();
      const sessionId = started.SessionId!;

      // As the AWS CLI does: the response by env var name (the plugin unsets it), credentials for Resume/Terminate.
      const shell = pty.spawn(
        plugin!,
        [
          'AWS_SSM_START_SESSION_RESPONSE',
          sandbox.region,
          'StartSession',
          '',
          JSON.stringify({ Target: PROD_WEB_1 }),
          sandbox.endpoint,
        ],
        {
          cols: 100,
          rows: 30,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: os.homedir(),
            AWS_SSM_START_SESSION_RESPONSE: JSON.stringify({
              SessionId: sessionId,
              StreamUrl: started.StreamUrl,
              TokenValue: started.TokenValue,
            }),
            AWS_ACCESS_KEY_ID: credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
            AWS_SESSION_TOKEN: credentials.sessionToken ?? '',
          },
        },
      );
      const output = new Transcript();
      shell.onData((data) => output.append(Buffer.from(data, 'utf8')));
      const exited = new Promise<number>((resolve) => shell.onExit(({ exitCode }) => resolve(exitCode)));
      try {
        await output.waitFor(new RegExp(`Starting session with SessionId: ${sessionId}`));
        const expectedUser =
          sandbox.isolation.available || runningAsRoot ? 'developer' : os.userInfo().username;
        shell.write('echo "user=$(whoami)"\r');
        await output.waitFor(new RegExp(`user=${expectedUser}\\b`));

        shell.write('echo "size=$(stty size)"\r');
        await output.waitFor(/size=30 100/);
        shell.resize(120, 40);
        // The plugin polls the terminal size every 500 ms.
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        shell.write('echo "size=$(stty size)"\r');
        await output.waitFor(/size=40 120/);

        const mark = output.byteLength;
        shell.write('seq 1 100000; echo "end=$?"\r');
        await output.waitFor(/end=0/, 60_000, mark);
        // Both ptys turn \n into \r\n, and bash's bracketed-paste toggles precede the first line.
        const numbers = output.bytes
          .subarray(mark)
          .toString('utf8')
          // eslint-disable-next-line no-control-regex -- stripping terminal escape sequences
          .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
          .split(/\r*\n/)
          .map((line) => line.slice(line.lastIndexOf('\r') + 1))
          .filter((line) => /^\d+$/.test(line));
        expect(numbers).toHaveLength(100_000);
        expect(numbers.every((n, i) => Number(n) === i + 1)).toBe(true);

        shell.write('exit 3\r');
        await output.waitFor(new RegExp(`Exiting session with sessionId: ${sessionId}\\.`));
        expect(await exited).toBe(0); // the plugin exits 0 after channel_closed
        expect(sandbox.sessions.get(sessionId)).toMatchObject({ status: 'Terminated', exitCode: 3 });
      } finally {
        shell.kill('SIGTERM');
      }
    }, 120_000);
  });
});
