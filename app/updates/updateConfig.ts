/**
 * Whether the desktop app checks for updates, and where. Off by default: an organisation
 * that hosts its own update server (electron-updater's generic provider: the installers and
 * latest*.yml in one https folder) turns it on by setting ROLESHELL_UPDATE_URL for its users.
 */
export type UpdateConfig = { enabled: true; url: string } | { enabled: false; reason: string };

export function updateConfigFrom(options: { env: NodeJS.ProcessEnv; packaged: boolean }): UpdateConfig {
  const raw = options.env.ROLESHELL_UPDATE_URL?.trim();
  if (!raw) return { enabled: false, reason: 'no update server configured (ROLESHELL_UPDATE_URL)' };
  if (!options.packaged) return { enabled: false, reason: 'not a packaged app' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { enabled: false, reason: `ROLESHELL_UPDATE_URL is not a URL: ${raw}` };
  }
  // Updates are code: only over TLS, from a server named without credentials.
  if (url.protocol !== 'https:')
    return { enabled: false, reason: `ROLESHELL_UPDATE_URL must be https: ${raw}` };
  if (url.username || url.password) {
    return { enabled: false, reason: 'ROLESHELL_UPDATE_URL must not carry credentials' };
  }
  return { enabled: true, url: url.href };
}
