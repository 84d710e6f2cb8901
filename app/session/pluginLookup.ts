/**
 * Which backend runs a session: AWS's session-manager-plugin when one is
 * found, otherwise RoleShell's built-in data-channel client. Lookup order: the
 * `SESSION_MANAGER_PLUGIN` setting, the copy bundled in resources
 * (`<resourcesDir>/plugin/<platform>-<arch>/session-manager-plugin`), then the
 * login shell's PATH (resolved once, so an app started from a desktop
 * launcher finds what a terminal would).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api/errors';

export type BackendChoice =
  | { backend: 'plugin'; pluginPath: string; source: 'setting' | 'bundled' | 'path' }
  | { backend: 'dataChannel'; why: string };

export interface PluginLookupOptions {
  /** The setting (or SESSION_MANAGER_PLUGIN); '' = not set. */
  configuredPath: string;
  /** The user chose the built-in client in settings. */
  preferBuiltIn: boolean;
  resourcesDir: string;
  /** The login shell's PATH (see loginShellPath). */
  searchPath: () => Promise<string>;
  platform?: NodeJS.Platform;
  arch?: NodeJS.Architecture;
}

const binaryName = (platform: NodeJS.Platform) =>
  platform === 'win32' ? 'session-manager-plugin.exe' : 'session-manager-plugin';

export function bundledPluginPath(resourcesDir: string, platform = process.platform, arch = process.arch) {
  return path.join(resourcesDir, 'plugin', `${platform}-${arch}`, binaryName(platform));
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function chooseBackend(options: PluginLookupOptions): Promise<BackendChoice> {
  if (options.preferBuiltIn) return { backend: 'dataChannel', why: 'chosen in Settings' };
  const platform = options.platform ?? process.platform;
  if (options.configuredPath) {
    if (isExecutable(options.configuredPath))
      return { backend: 'plugin', pluginPath: options.configuredPath, source: 'setting' };
    throw new ApiError(
      'InvalidInput',
      `The session-manager-plugin set in Settings (${options.configuredPath}) is not an executable file. Fix the path or clear it to use the built-in client.`,
    );
  }
  const bundled = bundledPluginPath(options.resourcesDir, platform, options.arch ?? process.arch);
  if (isExecutable(bundled)) return { backend: 'plugin', pluginPath: bundled, source: 'bundled' };
  const searchPath = await options.searchPath();
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binaryName(platform));
    if (isExecutable(candidate)) return { backend: 'plugin', pluginPath: candidate, source: 'path' };
  }
  return { backend: 'dataChannel', why: 'no session-manager-plugin found' };
}

let resolvedPath: Promise<string> | undefined;

/**
 * The PATH a login shell would have, asked once per process (a launcher-started
 * app gets a minimal PATH). Falls back to this process's PATH.
 */
export function loginShellPath(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  resolvedPath ??= new Promise((resolve) => {
    const fallback = env.PATH ?? '';
    const shell = env.SHELL;
    if (process.platform === 'win32' || !shell || !path.isAbsolute(shell)) {
      resolve(fallback);
      return;
    }
    const marker = '__ROLESHELL_PATH__';
    execFile(
      shell,
      ['-ilc', `printf '${marker}%s${marker}' "$PATH"`],
      { timeout: 3000, env: { HOME: env.HOME ?? '', USER: env.USER ?? '', SHELL: shell, PATH: fallback } },
      (error, stdout) => {
        const match = new RegExp(`${marker}(.*)${marker}`).exec(String(stdout));
        resolve(!error && match ? match[1]! : fallback);
      },
    );
  });
  return resolvedPath;
}
