// `npm run package [-- electron-builder args]` builds the installers for this machine's
// platform (or --linux / --mac / --win); `npm run package:dir` builds the unpacked app only.
// It first makes sure the Electron binary for every target can be had (electron-builder's own
// download, into its cache), so that where none can be downloaded it says so in one line and
// exits 1, before building anything, instead of electron-builder failing obscurely halfway.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The platform × arch pairs electron-builder will package (electron-builder.yml's arches). */
function targets() {
  const wanted = [
    ['--linux', '-l', 'linux'],
    ['--mac', '-m', 'darwin'],
    ['--win', '-w', 'win32'],
  ]
    .filter(([long, short]) => args.includes(long) || args.includes(short))
    .map(([, , platform]) => platform);
  const platforms = wanted.length > 0 ? wanted : [process.platform];
  const unpacked = args.includes('--dir');
  return platforms.flatMap((platform) =>
    unpacked || platform !== 'darwin'
      ? [[platform, unpacked ? process.arch : 'x64']]
      : [
          [platform, 'x64'],
          [platform, 'arm64'],
        ],
  );
}

async function requireElectronBinaries() {
  const { version } = require('electron/package.json');
  const { downloadElectronArtifactZip } = require('app-builder-lib/out/util/electronGet');
  for (const [platformName, arch] of targets()) {
    try {
      await downloadElectronArtifactZip({ artifactName: 'electron', platformName, arch, version });
    } catch (error) {
      const reason = String(error?.message ?? error).split('\n')[0];
      console.error(
        `package: cannot package RoleShell: no Electron ${version} binary for ${platformName}-${arch} could be downloaded (${reason}); packaging needs network access to it (or ELECTRON_MIRROR pointing at a mirror).`,
      );
      process.exit(1);
    }
  }
}

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

await requireElectronBinaries();
run(npm, ['run', '--silent', 'build']);
run(process.execPath, [require.resolve('electron-builder/cli.js'), '--publish', 'never', ...args]);
