/**
 * `npx tsx sandbox/src/dataChannel/pluginSession.ts <endpoint> [permissionSet] [instanceId] [accountId]`
 *
 * For trying AWS's session-manager-plugin against a running sandbox (started
 * with `--approve <user>`): signs in with the device flow, takes the permission
 * set's role credentials from the portal, calls SSM StartSession with the
 * unmodified SDK client, and prints shell lines that export the response (by
 * env var name, so the token stays out of the process list) and the
 * credentials the plugin signs ResumeSession/TerminateSession with, then the
 * plugin command line. See README.md next to this file.
 */
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import { loadOrg } from '../org';
import type { Sandbox } from '../index';
import { clientConfig, permissionSetCredentials, signIn } from '../testing/sdk';

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

async function main(): Promise<void> {
  const [
    endpoint,
    permissionSet = 'Developer',
    instanceId = 'i-0a1b2c3d4e5f60001',
    accountId = '222222222222',
  ] = process.argv.slice(2);
  if (!endpoint?.startsWith('http://')) {
    process.stderr.write(
      'Usage: npx tsx sandbox/src/dataChannel/pluginSession.ts <sandbox endpoint> [permissionSet] [instanceId] [accountId]\n' +
        'Start the sandbox first: npm run sandbox -- --approve alice\n',
    );
    process.exit(2);
  }
  const { org } = loadOrg();
  const sandbox = { endpoint, region: org.region, startUrl: org.startUrl } as Sandbox;
  const { accessToken } = await signIn(sandbox);
  const credentials = await permissionSetCredentials(sandbox, accessToken, accountId, permissionSet);
  const instance = org.instances.find((i) => i.id === instanceId);
  const region = instance?.region ?? org.region;
  const ssm = new SSMClient(clientConfig(sandbox, region, credentials));
  const started = await ssm.send(
    new StartSessionCommand({ Target: instanceId, DocumentName: `RoleShell-${permissionSet}` }),
  );
  ssm.destroy();
  const response = JSON.stringify({
    SessionId: started.SessionId,
    StreamUrl: started.StreamUrl,
    TokenValue: started.TokenValue,
  });
  process.stdout.write(
    [
      `export AWS_SSM_START_SESSION_RESPONSE=${shellQuote(response)}`,
      `export AWS_ACCESS_KEY_ID=${shellQuote(credentials.accessKeyId)}`,
      `export AWS_SECRET_ACCESS_KEY=${shellQuote(credentials.secretAccessKey)}`,
      `export AWS_SESSION_TOKEN=${shellQuote(credentials.sessionToken ?? '')}`,
      `session-manager-plugin AWS_SSM_START_SESSION_RESPONSE ${region} StartSession "" ${shellQuote(
        JSON.stringify({ Target: instanceId }),
      )} ${endpoint}`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`pluginSession: ${(error as Error).message}\n`);
  process.exit(1);
});
