/**
 * The settings model: every field, its validation and its default, in one
 * place. The file on disk, the environment and the renderer's save form all go
 * through these schemas, so a value is checked the same way wherever it comes from.
 */
import { z } from 'zod';
import { startUrlProblem } from './startUrl';

export { MAX_START_URL_LENGTH, startUrlProblem } from './startUrl';
/** How many signed-in start URLs are remembered (each keeps its session mode). */
export const MAX_USED_START_URLS = 20;

export const sessionModes = ['broker', 'direct'] as const;
export type SessionMode = (typeof sessionModes)[number];

// Commercial, GovCloud, China and ISO partitions: `eu-west-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`.
const regionPattern = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
// An unqualified or qualified Lambda function ARN.
const lambdaArnPattern =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$/;

export const regionName = z
  .string()
  .trim()
  .regex(regionPattern, { message: 'Enter an AWS region name such as eu-west-1' });

export const startUrl = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const problem = value === '' ? null : startUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const brokerArn = z
  .string()
  .trim()
  .refine((value) => value === '' || lambdaArnPattern.test(value), {
    message:
      'Enter a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>) or leave it empty for direct mode',
  });

/**
 * The endpoint every AWS client uses instead of AWS's own (the sandbox). It receives the IdC tokens, so
 * it is set only at launch (ROLESHELL_AWS_ENDPOINT, or the in-app sandbox start), never by a settings
 * save, and plain http only to this machine.
 */
export const awsEndpoint = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const problem = value === '' ? null : awsEndpointProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const pluginPath = z.string().trim().max(4096, { message: 'The path is too long' });

export const settingsSchema = z.object({
  /** IdC start URL; empty = not configured (the app then offers the local sandbox). */
  startUrl: startUrl.default(''),
  /** The IdC (home) region the start URL lives in. */
  ssoRegion: regionName.default('us-east-1'),
  /** The session broker's function ARN; empty = none deployed. */
  brokerArn: brokerArn.default(''),
  /** Regions to look for instances in; empty = the IdC region only (see `targetRegions`). */
  regions: z.array(regionName).max(40, { message: 'At most 40 regions' }).default([]),
  /**
   * One endpoint for every AWS client (the sandbox); empty = real AWS. Effective value only: it comes
   * from ROLESHELL_AWS_ENDPOINT, and a value in the file (written by an older version) is ignored.
   */
  awsEndpoint: awsEndpoint.default(''),
  /** session-manager-plugin binary; empty = bundled, then PATH, then the built-in client. */
  sessionManagerPluginPath: pluginPath.default(''),
  /** Broker or direct mode, per start URL (a user may belong to several IdC instances). */
  modes: z.record(startUrl, z.enum(sessionModes)).default({}),
  /** Start URLs signed in to successfully, most recent first: the only ones `modes` keeps entries for. */
  usedStartUrls: z.array(startUrl).max(MAX_USED_START_URLS).default([]),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingsField = keyof Settings;

export const defaultSettings: Settings = settingsSchema.parse({});

/** Environment variables that override a field; the UI shows such fields read-only. */
export const envOverrides = {
  startUrl: 'ROLESHELL_START_URL',
  ssoRegion: 'ROLESHELL_SSO_REGION',
  brokerArn: 'ROLESHELL_BROKER_ARN',
  regions: 'ROLESHELL_REGIONS',
  awsEndpoint: 'ROLESHELL_AWS_ENDPOINT',
  sessionManagerPluginPath: 'SESSION_MANAGER_PLUGIN',
} as const satisfies Partial<Record<SettingsField, string>>;
export type OverridableField = keyof typeof envOverrides;
export type EnvVarName = (typeof envOverrides)[OverridableField];

/** Fields only the app itself writes; a renderer save can never set them. */
export const launchOnlyFields = ['awsEndpoint', 'usedStartUrls'] as const;

/**
 * What the renderer may change: any subset of the fields. `awsEndpoint` may be
 * repeated unchanged (the form shows it) but never changed: see `awsEndpoint`.
 */
export const settingsPatchSchema = settingsSchema
  .omit({ usedStartUrls: true })
  .extend({
    startUrl,
    ssoRegion: regionName,
    brokerArn,
    regions: z.array(regionName).max(40, { message: 'At most 40 regions' }),
    awsEndpoint: z.string(),
    sessionManagerPluginPath: pluginPath,
    modes: z.record(startUrl, z.enum(sessionModes)),
  })
  .partial()
  .strict();
export type SettingsPatch = z.output<typeof settingsPatchSchema>;

/** The session mode for a start URL: broker unless the user chose direct (or there is no broker). */
export function sessionModeFor(settings: Settings, forStartUrl = settings.startUrl): SessionMode {
  const chosen = settings.modes[forStartUrl];
  if (chosen) return chosen;
  return settings.brokerArn ? 'broker' : 'direct';
}

/** Where to look for instances: the configured regions, or the IdC region alone. */
export function targetRegions(settings: Settings): string[] {
  return settings.regions.length > 0 ? settings.regions : [settings.ssoRegion];
}

const loopbackHosts = new Set(['localhost', '[::1]']);

/** Why `value` cannot be the AWS endpoint, or null. */
export function awsEndpointProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'The AWS endpoint must be an http:// or https:// URL, or empty for the real AWS endpoints';
  }
  if (url.username || url.password) return 'The AWS endpoint must not contain a user name or password';
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:')
    return 'The AWS endpoint must be an http:// or https:// URL, or empty for the real AWS endpoints';
  const loopback = loopbackHosts.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
  return loopback
    ? null
    : `Plain http is allowed only to this machine (127.0.0.1, localhost, [::1]); use https:// for ${url.hostname}`;
}
