// electron-builder `afterPack` hook (electron-builder.yml): flips Electron's fuses in the
// packaged binary with @electron/fuses, before signing, and makes sure the
// session-manager-plugin for the platform is inside (docs/contracts.md, bundled plugin path).
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');

/**
 * Every fuse of the wire, decided (strictlyRequireAllFuses makes a new fuse in a later Electron
 * fail the build until it is decided here too).
 */
const fuseSettings = Object.freeze({
  // The binary cannot be used as a plain Node (ELECTRON_RUN_AS_NODE) to run arbitrary code.
  RunAsNode: false,
  // Cookies on disk are encrypted with the OS keychain's key.
  EnableCookieEncryption: true,
  // NODE_OPTIONS and --inspect / --inspect-brk cannot inject code or a debugger.
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  // app.asar is checked against the hash electron-builder embeds (macOS, Windows), and the
  // app loads only from it, never from a loose app/ folder beside it.
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  // Electron's defaults: RoleShell ships no custom V8 snapshot and loads nothing over file://.
  LoadBrowserProcessSpecificV8Snapshot: false,
  GrantFileProtocolExtraPrivileges: false,
  WasmTrapHandlers: true,
});

/** electron-builder's Arch enum → Node's process.arch names. */
const archNames = { 0: 'ia32', 1: 'x64', 2: 'armv7l', 3: 'arm64', 4: 'universal' };

/** The packaged Electron executable (the .app bundle on macOS). */
function electronBinary(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  const productFilename = packager.appInfo.productFilename;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas') {
    return path.join(appOutDir, `${productFilename}.app`);
  }
  if (electronPlatformName === 'win32') return path.join(appOutDir, `${productFilename}.exe`);
  return path.join(appOutDir, packager.executableName);
}

/** Where the packaged app looks for the plugin: <resources>/plugin/<platform>-<arch>/. */
function pluginPath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  const platform = electronPlatformName === 'mas' ? 'darwin' : electronPlatformName;
  const resources =
    platform === 'darwin'
      ? path.join(appOutDir, `${packager.appInfo.productFilename}.app`, 'Contents', 'Resources')
      : path.join(appOutDir, 'resources');
  const executable = platform === 'win32' ? 'session-manager-plugin.exe' : 'session-manager-plugin';
  return path.join(resources, 'plugin', `${platform}-${archNames[context.arch]}`, executable);
}

async function afterPack(context) {
  const { flipFuses, FuseV1Options, FuseVersion } = await import('@electron/fuses');
  const config = { version: FuseVersion.V1, strictlyRequireAllFuses: true };
  for (const [name, value] of Object.entries(fuseSettings)) config[FuseV1Options[name]] = value;
  // Flipping fuses invalidates an arm64 binary's ad-hoc signature; sign it again (a real
  // identity, when configured, signs after this hook).
  config.resetAdHocDarwinSignature =
    context.electronPlatformName === 'darwin' && archNames[context.arch] === 'arm64';
  await flipFuses(electronBinary(context), config);

  const plugin = pluginPath(context);
  if (!existsSync(plugin)) {
    const message = `session-manager-plugin missing at ${plugin}: run resources/fetch-plugin before packaging`;
    const onlyUnpacked = (context.targets ?? []).every((target) => target.name === 'dir');
    // An unpacked build for a try-out may go without it (the app then looks on PATH); an installer may not.
    if (!onlyUnpacked) throw new Error(message);
    console.warn(`  • ${message} (an unpacked build goes on without it)`);
  }
}

module.exports = afterPack;
module.exports.default = afterPack;
module.exports.fuseSettings = fuseSettings;
module.exports.electronBinary = electronBinary;
module.exports.pluginPath = pluginPath;
