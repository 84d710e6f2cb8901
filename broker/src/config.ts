/**
 * Broker configuration: one JSON document in ROLESHELL_BROKER_CONFIG
 * (docs/contracts.md), validated once at cold start.
 */
import { z } from 'zod';

const regionName = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region name like eu-west-1');
const documentName = z
  .string()
  .regex(/^[a-zA-Z0-9_\-.:/]{3,128}$/, 'must be an SSM document name (3-128 of [a-zA-Z0-9_-.:/])');

/** An STS endpoint added to the allow list: scheme, host and port only. */
const stsEndpoint = z
  .string()
  .refine((value) => {
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
  }, 'must be a URL with only scheme, host and port, e.g. http://127.0.0.1:4566')
  .transform((value) => new URL(value).origin);

export const brokerConfigSchema = z
  .object({
    /** Role in each member account the broker assumes to start sessions. */
    targetRoleName: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name'),
    /** Regions callers may ask for; anything else is InvalidRequest. */
    regions: z.array(regionName).min(1, 'must list at least one region'),
    documentPrefix: z.string().default('RoleShell-'),
    /** Permission set name -> session document name, replacing prefix + name. */
    documentOverrides: z.record(z.string(), documentName).default({}),
    /** true lets a caller start sessions on instances outside its own account. */
    crossAccount: z.boolean().default(false),
    extraStsEndpoints: z.array(stsEndpoint).default([]),
    mappingCacheSeconds: z.number().int().min(0).max(86_400).default(300),
    /** Seconds the broker waits for STS to answer an identity proof. */
    stsTimeoutSeconds: z.number().positive().max(30).default(5),
  })
  .strict();

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
  return config.documentOverrides[permissionSet] ?? `${config.documentPrefix}${permissionSet}`;
}
