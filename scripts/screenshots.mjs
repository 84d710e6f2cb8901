// `npm run screenshots`: refreshes docs/screenshots/ (shown in the README) from the
// e2e run of every screen against the sandbox (e2e/specs/screens.spec.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const steps = [
  [npm, ['run', '--silent', 'build:renderer']],
  [npx, ['playwright', 'test', '-c', 'e2e/playwright.config.ts', 'specs/screens.spec.ts']],
];
for (const [command, args] of steps) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      ROLESHELL_SCREENSHOTS_DIR: fileURLToPath(new URL('../docs/screenshots', import.meta.url)),
    },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
