// `npm start`: build, then launch the Electron app. Where no Electron binary is
// installed and none can be downloaded (offline machines, CI), say so and serve
// the same app to a browser instead (the web host, as `npm run web`).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(script) {
  const result = spawnSync(npm, ['run', '--silent', script], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\nnpm run ${script} failed; fix the error above and run npm start again.`);
    process.exit(result.status ?? 1);
  }
}

/**
 * `require('electron')` returns the binary's path, downloading the binary on
 * first use. Resolve it in a child process so a failed download cannot take
 * this script down, and so its output can be summarised.
 */
function electronBinary() {
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  if (probe.status === 0 && probe.stdout) return { path: probe.stdout.trim() };
  const reason = (probe.stderr || probe.error?.message || 'unknown error').trim().split('\n').find(Boolean);
  return { error: reason };
}

run('build:renderer');
run('build:main');
run('build:sandbox');

console.error('Looking for the Electron binary (the first run downloads it, which can take a minute)…');
const electron = electronBinary();
if (electron.path) {
  const child = spawn(electron.path, ['.'], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
} else {
  console.error(
    [
      '',
      'The Electron binary is not installed and could not be downloaded',
      `(${electron.error}).`,
      'Starting RoleShell in web mode instead: open the URL below in a browser on this machine.',
      'To get the desktop app, allow the download (npx install-electron) and run npm start again.',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/host/cli.ts'], {
    cwd: root,
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 0)));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
}
