/**
 * "Try the local sandbox": starts the sandbox inside the app core with its
 * default org. Loaded lazily so a user who signs in to real IdC never loads it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningSandbox } from './identityCenter';

const DEFAULT_ORG = path.join('sandbox', 'org', 'default.yaml');

/**
 * The default org file, looked for above this module and above the working
 * directory: once main/ is bundled into dist/main/main.cjs, the sandbox's own
 * module-relative default path no longer points into the source tree.
 */
export function findDefaultOrg(starts: string[]): string | undefined {
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      const candidate = path.join(dir, DEFAULT_ORG);
      if (existsSync(candidate)) return candidate;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

export async function startLocalSandbox(log?: (line: string) => void): Promise<RunningSandbox> {
  const { startSandbox } = await import('../../sandbox/src/index');
  let here: string | undefined;
  try {
    here = path.dirname(fileURLToPath(import.meta.url));
  } catch {
    here = undefined;
  }
  const org = findDefaultOrg([...(here ? [here] : []), process.cwd()]);
  const sandbox = await startSandbox({ ...(org ? { org } : {}), ...(log ? { log } : {}) });
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
