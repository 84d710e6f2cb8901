/**
 * What an IAM Identity Center start URL (AWS access portal URL) looks like,
 * checked when it is entered rather than failing later as "could not reach":
 *
 *   https://<name>.awsapps.com/start                       commercial (d-xxxxxxxxxx or a chosen subdomain)
 *   https://<name>.awsapps.cn/start                        China
 *   https://start.us-gov-home.awsapps.com/directory/<name> GovCloud (US), also <name>.us-gov-home.awsapps.com
 *   https://<id>.portal.<region>.app.aws                   dual-stack portal endpoint
 *   https://<id>.<region>.portal.amazonaws.com             regional portal endpoint (additional Regions)
 *
 * Pure functions, no Node: the schema that uses them is shared with the renderer's types.
 */

/** Longer than any real start URL; keeps a pasted page of text out of the settings file. */
export const MAX_START_URL_LENGTH = 512;

const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const region = '[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\\d{1,2}';

interface StartUrlForm {
  host: RegExp;
  /** The paths IdC serves the portal on for this host. */
  path: RegExp;
  example: string;
}

const forms: StartUrlForm[] = [
  {
    host: new RegExp(`^${label}\\.us-gov-home\\.awsapps\\.com$`),
    path: /^\/(start|directory\/[A-Za-z0-9_.-]{1,64})\/?$/,
    example: 'https://start.us-gov-home.awsapps.com/directory/<name>',
  },
  {
    host: new RegExp(`^${label}\\.awsapps\\.com$`),
    path: /^\/start\/?$/,
    example: 'https://<name>.awsapps.com/start',
  },
  {
    host: new RegExp(`^${label}\\.awsapps\\.cn$`),
    path: /^\/start\/?$/,
    example: 'https://<name>.awsapps.cn/start',
  },
  {
    host: new RegExp(`^${label}\\.portal\\.${region}\\.app\\.aws$`),
    path: /^\/(start\/?)?$/,
    example: 'https://<id>.portal.<region>.app.aws',
  },
  {
    host: new RegExp(`^${label}\\.${region}\\.portal\\.amazonaws\\.com(\\.cn)?$`),
    path: /^\/(start\/?)?$/,
    example: 'https://<id>.<region>.portal.amazonaws.com',
  },
];

/** The domains a start URL's host ends in, for "did you mean" on a near miss (`awsaps.com`). */
const portalDomains = ['awsapps.com', 'awsapps.cn', 'us-gov-home.awsapps.com', 'app.aws', 'amazonaws.com'];

const shape =
  'IAM Identity Center start URLs look like https://<name>.awsapps.com/start (or .awsapps.cn, the GovCloud https://start.us-gov-home.awsapps.com/directory/<name>, or https://<id>.portal.<region>.app.aws)';

/** Why `value` is not a start URL, in words the user can act on; null when it is one. */
export function startUrlProblem(value: string): string | null {
  if (value.length > MAX_START_URL_LENGTH) {
    return `The start URL is too long (${value.length} characters; at most ${MAX_START_URL_LENGTH}).`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `Enter the start URL your administrator gave you. ${shape}.`;
  }
  if (url.protocol !== 'https:') {
    return 'The start URL must begin with https:// (for example https://my-org.awsapps.com/start).';
  }
  if (url.username || url.password) return 'The start URL must not contain a user name or password.';
  if (url.port) return `The start URL must not name a port (:${url.port}).`;
  if (url.search) return 'The start URL has no query (remove everything from "?").';
  const host = url.hostname;
  const form = forms.find((f) => f.host.test(host));
  if (!form) {
    const suggestion = nearMiss(host);
    if (suggestion) return `${host} is not an IAM Identity Center address. Did you mean ${suggestion}?`;
    return `${host} is not an IAM Identity Center address. ${shape}.`;
  }
  if (!form.path.test(url.pathname)) {
    return `The start URL's path ${url.pathname} is not an AWS access portal path: use ${form.example}.`;
  }
  return null;
}

export function isStartUrl(value: string): boolean {
  return startUrlProblem(value) === null;
}

/** `my-org.awsaps.com` → `my-org.awsapps.com`: one or two letters off a portal domain. */
function nearMiss(host: string): string | undefined {
  const dot = host.indexOf('.');
  if (dot < 1) return undefined;
  const name = host.slice(0, dot);
  const rest = host.slice(dot + 1);
  for (const domain of portalDomains) {
    const distance = editDistance(rest, domain);
    if (distance > 0 && distance <= 2) return `${name}.${domain}`;
  }
  return undefined;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length]!;
}
