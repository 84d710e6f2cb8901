/**
 * listTargets over a fleet larger than one page of DescribeInstanceInformation
 * (50) and of the tagging API's GetResources (100): every reachable instance comes back once.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateOrg, startSandbox, type Sandbox } from '../../sandbox/src/index';
import { tagAllowsPermissionSet } from './authorization';
import type { ListTargetsResult } from './contract';
import { BrokerInvoker, roleCredentials, signIn } from './fixtures/sandboxCaller';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const org = generateOrg({ accounts: 1, permissionSets: 2, instances: 260, regions: ['eu-west-1'] });
let sandbox: Sandbox;
let invoker: BrokerInvoker;

beforeAll(async () => {
  sandbox = await startSandbox({ org, root, approve: 'alice' });
  invoker = new BrokerInvoker(sandbox);
}, 60_000);

afterAll(async () => {
  invoker?.destroy();
  await sandbox?.close();
});

it('pages through SSM and the tagging API fully and keeps only what the permission set may reach', async () => {
  const account = org.accounts.find((a) => a.member !== false)!.id;
  const credentials = await roleCredentials(
    sandbox,
    await signIn(sandbox, 'alice'),
    account,
    'AdministratorAccess',
  );
  const response = await invoker.call(credentials, { action: 'listTargets', region: 'eu-west-1' });
  expect(response.ok).toBe(true);
  const { targets, linuxUser } = response as ListTargetsResult;
  const expected = (org.instances ?? [])
    .filter((i) => tagAllowsPermissionSet(i.tags?.['roleshell:permission-sets'], 'AdministratorAccess'))
    .map((i) => i.id)
    .sort();
  expect(expected.length).toBeGreaterThan(50);
  expect(targets.map((t) => t.instanceId).sort()).toEqual(expected);
  expect(new Set(targets.map((t) => t.linuxUser))).toEqual(new Set([linuxUser]));
  expect(targets.filter((t) => t.pingStatus === 'ConnectionLost').length).toBeGreaterThan(0);
  // Both services were asked more than once: the listing crossed page boundaries.
  const calls = (name: string) => sandbox.cloudTrail().filter((e) => e.eventName === name).length;
  expect(calls('DescribeInstanceInformation')).toBeGreaterThanOrEqual(6);
  expect(calls('GetResources')).toBeGreaterThanOrEqual(2);
  // Tags come from the tagging API alone now.
  expect(calls('DescribeInstances')).toBe(0);
});
