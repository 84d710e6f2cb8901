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

/** What the app protocol answers: a file inside the renderer folder, or an error status. */
export type RendererRequest = { status: 200; file: string } | { status: 400 | 404 };

/**
 * Maps a `roleshell://app/...` URL to a file inside the renderer folder. Never
 * throws: a malformed percent-escape (`%E0%A4%A`) is a 400, another host or a
 * path escaping the folder a 404.
 */
export function resolveRendererRequest(requestUrl: string, rendererDir: string): RendererRequest {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { status: 400 };
  }
  if (url.protocol !== `${appScheme}:` || url.host !== 'app') return { status: 404 };
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    return { status: 400 };
  }
  const relative = pathname === '/' ? '/index.html' : pathname;
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${relative}`);
  return file.startsWith(root + path.sep) ? { status: 200, file } : { status: 404 };
}

/** The file for a `roleshell://app/...` URL, or null (bad escape, other host, traversal). */
export function rendererFileFor(requestUrl: string, rendererDir: string): string | null {
  const resolved = resolveRendererRequest(requestUrl, rendererDir);
  return resolved.status === 200 ? resolved.file : null;
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
