/**
 * The only URLs RoleShell will hand to the system browser. The app core checks
 * every URL with `checkedExternalUrl` and opens the normalised URL it checked
 * (never the raw string, which a browser might parse differently), so a
 * compromised renderer or a hostile endpoint cannot open arbitrary schemes
 * (file:, smb:, custom protocol handlers) or sites, not even another
 * organisation's `*.awsapps.com` portal.
 */

export interface ExternalUrlOptions {
  /** The configured IdC start URL: pages on its own host (the portal, its device page) are allowed. */
  startUrl?: string;
  /**
   * The configured local sandbox endpoint (http://127.0.0.1:<port>): its device
   * approval page stands in for IdC's, so that one loopback origin is allowed too.
   */
  sandboxEndpoint?: string;
}

/** One rule per kind of page RoleShell opens; add a rule here (with a comment saying which flow needs it). */
export const externalUrlRules: ReadonlyArray<{
  name: string;
  matches: (url: URL, options: ExternalUrlOptions) => boolean;
}> = [
  {
    // The user's own IdC portal, where newer IdC instances verify device codes: https://<name>.awsapps.com/start/#/device
    name: 'the configured IAM Identity Center portal',
    matches: (url, options) => !!options.startUrl && url.hostname === httpsHostOf(options.startUrl),
  },
  {
    // Device authorization verification URIs returned by sso-oidc StartDeviceAuthorization.
    name: 'IAM Identity Center device verification',
    matches: (url) =>
      /^device\.sso\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}\.amazonaws\.com(\.cn)?$/.test(url.hostname),
  },
];

/** The normalised URL to open when `raw` is allowed, otherwise null. */
export function checkedExternalUrl(raw: string, options: ExternalUrlOptions = {}): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.username || url.password) return null;
  if (options.sandboxEndpoint && isSandboxPage(url, options.sandboxEndpoint)) return url.href;
  // https only, default port only.
  if (url.protocol !== 'https:' || url.port) return null;
  return externalUrlRules.some((rule) => rule.matches(url, options)) ? url.href : null;
}

export function isAllowedExternalUrl(raw: string, options: ExternalUrlOptions = {}): boolean {
  return checkedExternalUrl(raw, options) !== null;
}

function httpsHostOf(startUrl: string): string | undefined {
  try {
    const url = new URL(startUrl);
    return url.protocol === 'https:' ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}

function isSandboxPage(url: URL, endpoint: string): boolean {
  let sandbox: URL;
  try {
    sandbox = new URL(endpoint);
  } catch {
    return false;
  }
  const loopback =
    sandbox.hostname === '127.0.0.1' || sandbox.hostname === 'localhost' || sandbox.hostname === '[::1]';
  return loopback && sandbox.protocol === 'http:' && url.origin === sandbox.origin;
}
