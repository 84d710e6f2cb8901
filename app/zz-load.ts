import { mkdtemp } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
const threads = () =>
  Object.fromEntries(
    readdirSync('/proc/self/task').map((t) => {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      return [`${t}:${name}`, (Number(f[11]) + Number(f[12])) * 10];
    }),
  );
import os from 'node:os';
import path from 'node:path';
import { generateOrg, startSandbox } from '../sandbox/src/index';
import { dispatchCall } from './api/dispatch';
import { createAppApi } from './createAppApi';
const ACCOUNTS = Number(process.argv[2] ?? 1000);
const sandbox = await startSandbox({
  approve: 'alice',
  org: generateOrg({ accounts: ACCOUNTS, permissionSets: 3, instances: ACCOUNTS * 20 }),
  prebundleFunctions: true,
});
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'zz-'));
const app = createAppApi({
  dataDir,
  mode: 'web',
  log: (m, e) => console.error(m, e),
  env: {
    HOME: dataDir,
    ROLESHELL_START_URL: sandbox.startUrl,
    ROLESHELL_SSO_REGION: sandbox.region,
    ROLESHELL_AWS_ENDPOINT: sandbox.endpoint,
    ROLESHELL_BROKER_ARN: sandbox.brokerFunctionArn,
    ROLESHELL_REGIONS: 'eu-west-1,us-east-1',
  },
});
const T0 = { t: 0 };
const marks: string[] = [];
app.subscribe((e, p: any) => {
  if (e === 'browse.progress')
    marks.push(`${(performance.now() - T0.t).toFixed(0)} ${p.phase} ${p.loaded}/${p.total}`);
});
const call = async (n: string, i?: unknown) => {
  const r = await dispatchCall(app.handlers, n, i);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as any;
};
await call('auth.signIn');
for (let i = 0; i < 200; i++) {
  const v = await call('auth.getView');
  if (v.state.status === 'signedIn') break;
  await new Promise((r) => setTimeout(r, 50));
}
let t = performance.now();
await call('browse.listAccounts', {});
console.log('accounts', performance.now() - t);
t = performance.now();
T0.t = t;
const cpu0 = process.cpuUsage();
const th0 = threads();
const all = await call('browse.loadAllTargets', {});
const el = performance.now() - t;
const cpu = process.cpuUsage(cpu0);
const th1 = threads();
console.log(
  Object.entries(th1)
    .map(([k, v]) => [k, v - (th0[k] ?? 0)] as const)
    .filter(([, v]) => v > 50)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join('\n'),
);
console.log('cpu ms', ((cpu.user + cpu.system) / 1000).toFixed(0));
const trail = sandbox.cloudTrail();
const count = (n: string) => trail.filter((e) => e.eventName === n).length;
console.log(
  'loadAll ms',
  el.toFixed(0),
  'rows',
  all.lists.reduce((n: number, l: any) => n + l.rows.length, 0),
  'failures',
  all.failures.length,
  all.failures[0]?.message,
);
for (const n of [
  'ListAccountRoles',
  'GetRoleCredentials',
  'Invoke',
  'GetCallerIdentity',
  'AssumeRole',
  'GetDocument',
  'DescribeInstanceInformation',
  'GetResources',
])
  console.log(n, count(n));

await app.close();
await sandbox.close();
process.exit(0);
