/**
 * `npm run web`: serves RoleShell to a normal browser on a loopback port, with
 * the same app core the desktop app uses. Honours the settings environment
 * variables; the data folder is ROLESHELL_DATA_DIR or ./.roleshell-data.
 * Prints `RoleShell is running at <url>` (the e2e fixture waits for that line).
 */
import path from 'node:path';
import { startHost } from './server';

const dataDir = path.resolve(process.env.ROLESHELL_DATA_DIR || '.roleshell-data');
const port = Number(process.env.ROLESHELL_WEB_PORT || 0);

const host = await startHost({ dataDir, port, log: (line) => console.error(`[host] ${line}`) });
console.log(`RoleShell is running at ${host.url}`);
console.log(`Data folder: ${dataDir}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await host.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
