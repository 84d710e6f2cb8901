/**
 * `npm run sandbox -- [--port N] [--org FILE] [--approve USER] [--cloudtrail-file FILE] [--state-dir DIR]`
 *
 * Starts the sandbox and prints exactly one JSON line on stdout when ready
 * (docs/contracts.md); everything else goes to stderr. SIGTERM / SIGINT stop it
 * cleanly: shells and Lambda workers ended, port closed.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startSandbox, type Sandbox } from './index';

/** Instances' home folders live here between runs (git-ignored). */
const DEFAULT_STATE_DIR = fileURLToPath(new URL('../.state', import.meta.url));

const USAGE = `Usage: npm run sandbox -- [--port N] [--org FILE] [--approve USER] [--cloudtrail-file FILE] [--state-dir DIR] [--quiet]

  --port N               listen on 127.0.0.1:N (default: any free port)
  --org FILE             org file (YAML); default sandbox/org/default.yaml
  --approve USER         approve every device authorization as this IdC user
  --cloudtrail-file FILE also append CloudTrail events to FILE as JSON lines
  --state-dir DIR        instances' home folders, kept between runs (default sandbox/.state)
  --quiet                no log lines on stderr`;

function fail(message: string): never {
  process.stderr.write(`sandbox: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        org: { type: 'string' },
        approve: { type: 'string' },
        'cloudtrail-file': { type: 'string' },
        'state-dir': { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0-65535, not ${values.port}`);

  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({
      port,
      org: values.org,
      approve: values.approve,
      cloudTrailFile: values['cloudtrail-file'],
      stateDir: values['state-dir'] ?? DEFAULT_STATE_DIR,
      prebundleFunctions: true,
      log: values.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    process.stderr.write(`sandbox: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (!sandbox.isolation.available) {
    // Once, at start: sessions still work, but not as the instance's own users.
    process.stderr.write(
      `sandbox: sessions run as your own user, not as each instance's Linux users: ${sandbox.isolation.reason}. To fix, ${sandbox.isolation.install}.\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sandbox: ${signal}, stopping\n`);
    sandbox.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`sandbox: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stdout.write(
    `${JSON.stringify({
      endpoint: sandbox.endpoint,
      region: sandbox.region,
      startUrl: sandbox.startUrl,
      brokerFunctionName: sandbox.brokerFunctionName,
      brokerFunctionArn: sandbox.brokerFunctionArn,
      cloudTrail: `${sandbox.endpoint}/_sandbox/cloudtrail`,
      users: sandbox.users,
    })}\n`,
  );
}

void main();
