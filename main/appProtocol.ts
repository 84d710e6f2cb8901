/**
 * The renderer is served from a private `roleshell://app/` scheme rather than
 * file://, so it has a real origin the IPC sender check can compare, and every
 * response carries the Content-Security-Policy header. No Electron import here,
 * so the rules are unit-tested in plain Node.
 */
import path from 'node:path';

export const appScheme = 'roleshell';
export const appOrigin = `${appScheme}://app`;
export const appEntryUrl = `${appOrigin}/index.html`;

/** Same policy as renderer/index.html's meta tag; also sent as a header. */
export const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'";

/** Maps a `roleshell://app/...` URL to a file inside the renderer folder, or null (other host, traversal). */
export function rendererFileFor(requestUrl: string, rendererDir: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${appScheme}:` || url.host !== 'app') return null;
  const relative =
    decodeURIComponent(url.pathname) === '/' ? '/index.html' : decodeURIComponent(url.pathname);
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${relative}`);
  return file.startsWith(root + path.sep) ? file : null;
}

/**
 * IPC is answered only for the app's own top-level frame showing the app's own
 * origin: not an iframe, not a page something navigated to.
 */
export function isTrustedSender(sender: { url: string; isMainFrame: boolean } | null | undefined): boolean {
  if (!sender || !sender.isMainFrame) return false;
  try {
    // Node's URL gives custom schemes an opaque ("null") origin, so compare scheme and host.
    const url = new URL(sender.url);
    return url.protocol === `${appScheme}:` && url.host === 'app';
  } catch {
    return false;
  }
}

export const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};
