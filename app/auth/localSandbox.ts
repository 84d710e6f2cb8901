/**
 * "Try the local sandbox": starts the sandbox inside the app core with its
 * default org. Loaded lazily so a user who signs in to real IdC never loads it.
 */
import type { RunningSandbox } from './identityCenter';

export async function startLocalSandbox(log?: (line: string) => void): Promise<RunningSandbox> {
  const [{ startSandbox }, { loadOrg }] = await Promise.all([
    import('../../sandbox/src/index'),
    import('../../sandbox/src/org'),
  ]);
  // The regions the default org's instances live in are the regions to browse.
  const regions = [...new Set(loadOrg().org.instances.map((i) => i.region))];
  const sandbox = await startSandbox(log ? { log } : {});
  return {
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    startUrl: sandbox.startUrl,
    brokerFunctionArn: sandbox.brokerFunctionArn,
    regions: regions.length > 0 ? regions : [sandbox.region],
    close: () => sandbox.close(),
  };
}
