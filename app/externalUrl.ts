/**
 * The only URLs RoleShell will hand to the system browser. Both the Electron
 * main process (`shell.openExternal`) and the web host go through
 * `isAllowedExternalUrl`, so a compromised renderer cannot open arbitrary
 * schemes (file:, smb:, custom protocol handlers) or sites.
 */

/** One rule per kind of page RoleShell opens; add a rule here (with a comment saying which flow needs it). */
export const externalUrlRules: ReadonlyArray<{ name: string; matches: (url: URL) => boolean }> = [
  {
    // IdC start portals and their device-code verification pages: https://<id>.awsapps.com/start/#/device
    name: 'IAM Identity Center portal',
    matches: (url) => url.hostname.endsWith('.awsapps.com'),
  },
  {
    // Device authorization verification URIs returned by sso-oidc StartDeviceAuthorization.
    name: 'IAM Identity Center device verification',
    matches: (url) => /^device\.sso\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname),
  },
];

export interface ExternalUrlOptions {
  /**
   * The configured local sandbox endpoint (http://127.0.0.1:<port>): its device
   * approval page stands in for IdC's, so that one loopback origin is allowed too.
   */
  sandboxEndpoint?: string;
}

export function isAllowedExternalUrl(raw: string, options: ExternalUrlOptions = {}): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (options.sandboxEndpoint && isSandboxPage(url, options.sandboxEndpoint)) return true;
  // https only, no credentials in the URL, default port only.
  if (url.protocol !== 'https:' || url.username || url.password || url.port) return false;
  return externalUrlRules.some((rule) => rule.matches(url));
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
  return loopback && url.origin === sandbox.origin && !url.username && !url.password;
}
