/**
 * Broker configuration: one JSON document in ROLESHELL_BROKER_CONFIG
 * (docs/contracts.md), validated once at cold start.
 */
import * as z from 'zod/mini';
import './zodMessages';

const regionName = z
  .string()
  .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region name like eu-west-1'));
const documentName = z
  .string()
  .check(z.regex(/^[a-zA-Z0-9_\-.:/]{3,128}$/, 'must be an SSM document name (3-128 of [a-zA-Z0-9_-.:/])'));

/** An STS endpoint added to the allow list: scheme, host and port only. */
function isOriginOnly(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.username === '' &&
      url.password === '' &&
      (url.pathname === '/' || url.pathname === '') &&
      url.search === '' &&
      url.hash === ''
    );
  } catch {
    return false;
  }
}

const stsEndpoint = z.pipe(
  z
    .string()
    .check(
      z.refine(isOriginOnly, 'must be a URL with only scheme, host and port, e.g. http://127.0.0.1:4566'),
    ),
  z.transform((value: string) => new URL(value).origin),
);

/**
 * A JSON object of permission set name -> document name, read into a Map: the
 * names come from IAM Identity Center, and `constructor`, `toString` or
 * `__proto__` are valid permission set names that a plain object would answer
 * with built-ins (or, for `__proto__`, silently drop).
 */
const documentOverrides = z.pipe(
  z.custom<object>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    'must be an object of permission set name -> session document name',
  ),
  z.transform((raw: object, ctx) => {
    const overrides = new Map<string, string>();
    for (const [permissionSet, document] of Object.entries(raw)) {
      const parsed = documentName.safeParse(document);
      if (parsed.success) overrides.set(permissionSet, parsed.data);
      else
        ctx.issues.push({
          code: 'custom',
          message: parsed.error.issues[0]?.message ?? 'must be an SSM document name',
          input: document,
          path: [permissionSet],
        });
    }
    return overrides;
  }),
);

export const brokerConfigSchema = z.strictObject({
  /** Role in each member account the broker assumes to start sessions. */
  targetRoleName: z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')),
  /** Regions callers may ask for; anything else is InvalidRequest. */
  regions: z.array(regionName).check(z.minLength(1, 'must list at least one region')),
  documentPrefix: z._default(z.string(), 'RoleShell-'),
  /** Permission set name -> session document name, replacing prefix + name. */
  documentOverrides: z._default(documentOverrides, () => new Map<string, string>()),
  /** true lets a caller start sessions on instances outside its own account. */
  crossAccount: z._default(z.boolean(), false),
  extraStsEndpoints: z._default(z.array(stsEndpoint), []),
  mappingCacheSeconds: z._default(z.int().check(z.minimum(0), z.maximum(86_400)), 300),
  /** Seconds what iam:GetRole said about a caller's role is reused (bounded: a role can be deleted). */
  roleCacheSeconds: z._default(z.int().check(z.minimum(0), z.maximum(3600)), 300),
  /** Seconds the broker waits for STS to answer an identity proof. */
  stsTimeoutSeconds: z._default(z.number().check(z.positive(), z.maximum(30)), 5),
});

export type BrokerConfig = z.output<typeof brokerConfigSchema>;

export class BrokerConfigError extends Error {
  override readonly name = 'BrokerConfigError';
}

/** Parses and validates the configuration; throws BrokerConfigError naming every bad field. */
export function loadBrokerConfig(env: Record<string, string | undefined>): BrokerConfig {
  const raw = env.ROLESHELL_BROKER_CONFIG;
  if (raw === undefined || raw.trim() === '') {
    throw new BrokerConfigError(
      'ROLESHELL_BROKER_CONFIG is not set; it must hold the broker configuration JSON.',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new BrokerConfigError(`ROLESHELL_BROKER_CONFIG is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = brokerConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
      .join('; ');
    throw new BrokerConfigError(`ROLESHELL_BROKER_CONFIG is invalid: ${issues}`);
  }
  return parsed.data;
}

/** The session document a permission set maps to. */
export function documentNameFor(config: BrokerConfig, permissionSet: string): string {
  return config.documentOverrides.get(permissionSet) ?? `${config.documentPrefix}${permissionSet}`;
}
