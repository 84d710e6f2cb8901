/**
 * Helpers for tests that drive the sandbox through the unmodified AWS SDK v3
 * clients (only `endpoint` set): sign in with the device flow, fetch permission
 * set credentials from the portal, assume a role.
 */
import {
  CreateTokenCommand,
  RegisterClientCommand,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Sandbox } from '../index';

export interface SignedIn {
  accessToken: string;
  refreshToken?: string;
  clientId: string;
  clientSecret: string;
}

/** Config every client gets: the sandbox endpoint, no retries (tests want the first answer). */
export const clientConfig = (
  sandbox: Sandbox,
  region = sandbox.region,
  credentials?: AwsCredentialIdentity,
) => ({
  endpoint: sandbox.endpoint,
  region,
  maxAttempts: 1,
  ...(credentials ? { credentials } : {}),
});

/** Approves a device authorization on the verification page, as a person would in a browser. */
export async function approveOnPage(
  sandbox: Sandbox,
  verificationUriComplete: string,
  user: string,
): Promise<void> {
  const html = await (await fetch(verificationUriComplete)).text();
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
  const userCode = /name="user_code" value="([^"]+)"/.exec(html)?.[1];
  if (!csrf || !userCode) throw new Error(`no approval form at ${verificationUriComplete}`);
  const res = await fetch(`${sandbox.endpoint}/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      user_code: userCode,
      csrf_token: csrf,
      user,
      decision: 'approve',
    }).toString(),
  });
  if (res.status !== 200) throw new Error(`approval failed: ${res.status}`);
}

/**
 * Device flow. Against a sandbox started with `approve` the authorization is
 * already approved; otherwise pass `user` to approve it on the verification page.
 */
export async function signIn(
  sandbox: Sandbox,
  scopes = ['sso:account:access'],
  user?: string,
): Promise<SignedIn> {
  const oidc = new SSOOIDCClient(clientConfig(sandbox));
  const reg = await oidc.send(
    new RegisterClientCommand({ clientName: 'roleshell-test', clientType: 'public', scopes }),
  );
  const device = await oidc.send(
    new StartDeviceAuthorizationCommand({
      clientId: reg.clientId,
      clientSecret: reg.clientSecret,
      startUrl: sandbox.startUrl,
    }),
  );
  if (user) await approveOnPage(sandbox, device.verificationUriComplete!, user);
  const token = await oidc.send(
    new CreateTokenCommand({
      clientId: reg.clientId,
      clientSecret: reg.clientSecret,
      grantType: 'urn:ietf:params:oauth:grant-type:device_code',
      deviceCode: device.deviceCode,
    }),
  );
  oidc.destroy();
  return {
    accessToken: token.accessToken!,
    refreshToken: token.refreshToken,
    clientId: reg.clientId!,
    clientSecret: reg.clientSecret!,
  };
}

export async function permissionSetCredentials(
  sandbox: Sandbox,
  accessToken: string,
  accountId: string,
  permissionSet: string,
): Promise<AwsCredentialIdentity> {
  const sso = new SSOClient(clientConfig(sandbox));
  const { roleCredentials: c } = await sso.send(
    new GetRoleCredentialsCommand({ accessToken, accountId, roleName: permissionSet }),
  );
  sso.destroy();
  return {
    accessKeyId: c!.accessKeyId!,
    secretAccessKey: c!.secretAccessKey!,
    sessionToken: c!.sessionToken!,
    expiration: new Date(c!.expiration!),
  };
}

export async function assumeRole(
  sandbox: Sandbox,
  credentials: AwsCredentialIdentity,
  input: ConstructorParameters<typeof AssumeRoleCommand>[0],
  region = sandbox.region,
): Promise<AwsCredentialIdentity> {
  const sts = new STSClient(clientConfig(sandbox, region, credentials));
  const { Credentials: c } = await sts.send(new AssumeRoleCommand(input));
  sts.destroy();
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
    expiration: c!.Expiration,
  };
}
