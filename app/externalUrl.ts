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

export function isAllowedExternalUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  // https only, no credentials in the URL, default port only.
  if (url.protocol !== 'https:' || url.username || url.password || url.port) return false;
  return externalUrlRules.some((rule) => rule.matches(url));
}
