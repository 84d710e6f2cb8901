/** Server-rendered HTML for the device verification page. Every value is escaped. */
import type { OrgUser } from '../org/schema';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const page = (title: string, body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #16191f; }
  .code { font: 600 2rem ui-monospace, monospace; letter-spacing: .15em; }
  fieldset { border: 1px solid #d5dbdb; border-radius: 6px; margin: 1rem 0; }
  label { display: block; margin: .4rem 0; }
  button { font-size: 1rem; padding: .5rem 1.2rem; margin-right: .5rem; }
  [role=alert] { color: #d13212; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
${body}
</body>
</html>
`;

export interface DevicePageModel {
  users: OrgUser[];
  userCode: string;
  csrfToken?: string;
  error?: string;
}

export function renderDevicePage(m: DevicePageModel): string {
  const error = m.error ? `<p role="alert">${esc(m.error)}</p>` : '';
  if (!m.csrfToken) {
    // No live authorization to act on: ask for the code (this is also the plain verificationUri).
    return page(
      'Authorize request',
      `${error}
<form method="get" action="/device">
<label for="user_code">Code shown by the application</label>
<input id="user_code" name="user_code" autocomplete="off" required value="${esc(m.userCode)}">
<button type="submit">Next</button>
</form>`,
    );
  }
  const options = m.users
    .map(
      (u, i) =>
        `<label><input type="radio" name="user" value="${esc(u.userName)}"${i === 0 ? ' checked' : ''}> ` +
        `${esc(u.displayName)} (${esc(u.userName)}, ${esc(u.email)})</label>`,
    )
    .join('\n');
  return page(
    'Authorize request',
    `${error}
<p>Confirm this code matches the one shown by the application that asked to sign in:</p>
<p class="code" id="user-code">${esc(m.userCode)}</p>
<form method="post" action="/device">
<input type="hidden" name="user_code" value="${esc(m.userCode)}">
<input type="hidden" name="csrf_token" value="${esc(m.csrfToken)}">
<fieldset>
<legend>Sign in to the sandbox's IAM Identity Center as</legend>
${options}
</fieldset>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function renderDeviceResult(
  result: 'approved' | 'denied',
  userCode: string,
  userName?: string,
): string {
  return result === 'approved'
    ? page(
        'Request approved',
        `<p role="status">Code <span class="code">${esc(userCode)}</span> approved${userName ? ` as ${esc(userName)}` : ''}. You can close this window and return to RoleShell.</p>`,
      )
    : page('Request denied', `<p role="status">Code ${esc(userCode)} was denied. No access was granted.</p>`);
}
