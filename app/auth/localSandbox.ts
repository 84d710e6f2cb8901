/**
 * "Try the local sandbox": starts the sandbox inside the app core with its
 * default org. Loaded lazily so a user who signs in to real IdC never loads it.
 */
import type { RunningSandbox } from './identityCenter';

export async function startLocalSandbox(log?: (line: string) => void): Promise<RunningSandbox> {
  const { startSandbox } = await import('../../sandbox/src/index');
  const sandbox = await startSandbox(log ? { log } : {});
  // The regions the org's instances live in are the regions to browse.
  const regions = [...new Set(sandbox.org.instances.map((i) => i.region))];
  return {
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    startUrl: sandbox.startUrl,
    brokerFunctionArn: sandbox.brokerFunctionArn,
    regions: regions.length > 0 ? regions : [sandbox.region],
    close: () => sandbox.close(),
  };
}
