/**
 * The one deployment configuration file (infra/roleshell.config.yaml): which
 * Linux user each permission set maps to, where the broker lives, which OUs and
 * regions the member StackSet covers. Validated with zod; every error names the
 * path of the bad key, so a typo fails the synth instead of deploying nonsense.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import * as z from 'zod';

export const defaultConfigPath = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../roleshell.config.yaml',
);

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id (quote it in YAML)');
const regionName = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region name like eu-west-1');
const iamName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (1-64 of [\\w+=,.@-])');
/** Permission set names: 1-32 of [\w+=,.@-] (IAM Identity Center's rule). */
const permissionSetName = z
  .string()
  .regex(/^[\w+=,.@-]{1,32}$/, 'must be a permission set name (1-32 of [\\w+=,.@-])');
/** SSM document names; custom ones may not start with AWS's reserved prefixes. */
const documentName = z
  .string()
  .regex(/^[a-zA-Z0-9_\-.]{3,128}$/, 'must be an SSM document name (3-128 of [a-zA-Z0-9_-.])')
  .refine((name) => !/^(aws|amazon|amzn)/i.test(name), 'may not start with aws, amazon or amzn');
/**
 * A portable Linux user name (useradd's default rule), and never root: the SSM
 * agent refuses root as a run-as user.
 */
const linuxUser = z
  .string()
  .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user name (lowercase, [a-z0-9_-], at most 32)')
  .refine((name) => name !== 'root', 'may not be root (Session Manager refuses it)');
/**
 * One sudo command: an absolute path and plain arguments. Characters sudoers
 * gives meaning to (`,` `:` `=` `\` `!` `#`) are refused so a rule cannot smuggle
 * in another one.
 */
const sudoCommand = z
  .string()
  .regex(
    /^\/[A-Za-z0-9_./+-]+( [A-Za-z0-9_./+@%*-]+)*$/,
    'must be an absolute command path with plain arguments (no , : = \\ ! #)',
  );

const minutes = (max: number) =>
  z
    .int(`must be a whole number of minutes`)
    .min(1, `must be at least 1 minute`)
    .max(max, `must be at most ${max} minutes`);

const logGroupName = z.string().regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, 'must be a CloudWatch Logs group name');
const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');

const loggingSchema = z.strictObject({
  cloudWatch: z
    .strictObject({
      logGroupName: logGroupName.optional(),
      /** Refuse to start a session when the log group is not encrypted. */
      encryptionRequired: z.boolean().default(true),
      streaming: z.boolean().default(true),
    })
    .optional(),
  s3: z
    .strictObject({
      bucketName: bucketName.optional(),
      keyPrefix: z
        .string()
        .regex(/^[A-Za-z0-9!_.*'()/-]{0,256}$/, 'must be an S3 key prefix')
        .optional(),
      encryptionRequired: z.boolean().default(true),
    })
    .optional(),
});

const kmsKeyId = z
  .string()
  .regex(
    /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/-]+|alias\/[\w/-]+|[0-9a-f-]{36})$/,
    'must be a KMS key id, key ARN or alias',
  );

/** What a permission set may set for its own sessions, on top of sessionDefaults. */
const sessionSettings = {
  idleSessionTimeoutMinutes: minutes(60).optional(),
  maxSessionDurationMinutes: minutes(1440).optional(),
  shellProfile: z.string().max(4096).optional(),
  logging: loggingSchema.optional(),
  kmsKeyId: kmsKeyId.optional(),
};

const permissionSetSchema = z.strictObject({
  linuxUser,
  /** `all` = full sudo; a list = only those commands; absent = no sudo. Always NOPASSWD: the users have no password. */
  sudo: z.union([z.literal('all'), z.array(sudoCommand).min(1, 'must list at least one command')]).optional(),
  /** Use this session document name instead of documentPrefix + permission set. */
  documentName: documentName.optional(),
  ...sessionSettings,
});

export const infraConfigSchema = z
  .strictObject({
    organization: z.strictObject({
      id: z.string().regex(/^o-[a-z0-9]{10,32}$/, 'must be an organization id like o-a1b2c3d4e5'),
      targetOUs: z
        .array(
          z
            .string()
            .regex(/^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/, 'must be an OU or root id'),
        )
        .min(1, 'must list at least one OU'),
      /**
       * Which guard-rail SCP the organization stack attaches to the OUs: `broker` (only the
       * target role starts sessions on tagged instances), `direct` (permission-set roles too),
       * or `none` (attach guard-rails/*.json by other means).
       */
      /** Account the organization stack (StackSet, SCP) deploys to: the management or delegated admin account. */
      managementAccount: accountId.optional(),
      serviceControlPolicy: z.enum(['broker', 'direct', 'none']).default('broker'),
    }),
    regions: z.array(regionName).min(1, 'must list at least one region'),
    broker: z.strictObject({
      account: accountId,
      region: regionName,
      functionName: z
        .string()
        .regex(/^[a-zA-Z0-9-_]{1,64}$/, 'must be a Lambda function name')
        .default('roleshell-broker'),
      executionRoleName: iamName.default('RoleShellBrokerExecution'),
      reservedConcurrency: z.int().min(1).max(1000).default(20),
      logRetentionDays: z
        .union([
          z.literal(1),
          z.literal(3),
          z.literal(5),
          z.literal(7),
          z.literal(14),
          z.literal(30),
          z.literal(60),
          z.literal(90),
          z.literal(180),
          z.literal(365),
          z.literal(731),
          z.literal(1827),
          z.literal(3653),
        ])
        .default(365),
      crossAccount: z.boolean().default(false),
      timeoutSeconds: z.int().min(5).max(60).default(30),
    }),
    member: z
      .strictObject({
        targetRoleName: iamName.default('RoleShellTarget'),
        documentPrefix: z
          .string()
          .regex(/^[a-zA-Z0-9_\-.]{1,64}$/, 'must be an SSM document name prefix')
          .default('RoleShell-'),
        stackSetName: z
          .string()
          .regex(/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/, 'must be a StackSet name')
          .default('RoleShell-Member'),
        provisioning: z
          .strictObject({
            schedule: z
              .string()
              .regex(/^(rate\(\d+ (minutes|hours|days)\)|cron\(.+\))$/, 'must be rate(...) or cron(...)')
              .default('rate(30 minutes)'),
          })
          .default({ schedule: 'rate(30 minutes)' }),
      })
      .default({
        targetRoleName: 'RoleShellTarget',
        documentPrefix: 'RoleShell-',
        stackSetName: 'RoleShell-Member',
        provisioning: { schedule: 'rate(30 minutes)' },
      }),
    sessionDefaults: z
      .strictObject({
        idleSessionTimeoutMinutes: minutes(60).default(20),
        maxSessionDurationMinutes: minutes(1440).default(60),
        shellProfile: z.string().max(4096).default('cd ~ && exec bash -l'),
        logging: loggingSchema.default({}),
        kmsKeyId: kmsKeyId.optional(),
      })
      .default({
        idleSessionTimeoutMinutes: 20,
        maxSessionDurationMinutes: 60,
        shellProfile: 'cd ~ && exec bash -l',
        logging: {},
      }),
    permissionSets: z
      .record(permissionSetName, permissionSetSchema)
      .refine((sets) => Object.keys(sets).length > 0, 'must map at least one permission set'),
  })
  .superRefine((config, ctx) => {
    if (!config.regions.includes(config.broker.region)) {
      ctx.addIssue({
        code: 'custom',
        path: ['broker', 'region'],
        message: `must be one of regions (${config.regions.join(', ')})`,
      });
    }
    const documents = new Map<string, string>();
    for (const [name, set] of Object.entries(config.permissionSets)) {
      const document = set.documentName ?? `${config.member.documentPrefix}${name}`;
      const other = documents.get(document);
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['permissionSets', name, 'documentName'],
          message: `session document ${document} is already used by permission set ${other}`,
        });
      }
      documents.set(document, name);
    }
  });

export type InfraConfig = z.output<typeof infraConfigSchema>;
export type PermissionSetConfig = InfraConfig['permissionSets'][string];
export type LoggingConfig = z.output<typeof loggingSchema>;

export class InfraConfigError extends Error {
  override readonly name = 'InfraConfigError';
}

function formatPath(issuePath: readonly PropertyKey[]): string {
  if (issuePath.length === 0) return '(top level)';
  return issuePath
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

/** Validates an already parsed object; throws InfraConfigError listing each bad key's path. */
export function parseInfraConfig(raw: unknown, source = 'configuration'): InfraConfig {
  const parsed = infraConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
        : issue.message;
    return `  ${formatPath(issue.path)}: ${message}`;
  });
  throw new InfraConfigError(`${source} is invalid:\n${lines.join('\n')}`);
}

/** Reads and validates a YAML configuration file. */
export function loadInfraConfig(file = defaultConfigPath): InfraConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InfraConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new InfraConfigError(
      `${file} is not valid YAML:\n${document.errors.map((e) => `  ${e.message}`).join('\n')}`,
    );
  }
  return parseInfraConfig(document.toJS(), file);
}

/** The permission set's document name (documentName override, else prefix + name). */
export function documentNameFor(config: InfraConfig, permissionSet: string): string {
  return (
    config.permissionSets[permissionSet]?.documentName ?? `${config.member.documentPrefix}${permissionSet}`
  );
}

/** Overrides in the broker's sense: only permission sets whose document is not prefix + name. */
export function documentOverrides(config: InfraConfig): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const [name, set] of Object.entries(config.permissionSets)) {
    if (set.documentName !== undefined) overrides[name] = set.documentName;
  }
  return overrides;
}

/** The broker's execution role ARN, the only principal the member target role trusts. */
export function brokerExecutionRoleArn(config: InfraConfig, partition = 'aws'): string {
  return `arn:${partition}:iam::${config.broker.account}:role/${config.broker.executionRoleName}`;
}

export function brokerFunctionArn(config: InfraConfig, partition = 'aws'): string {
  return `arn:${partition}:lambda:${config.broker.region}:${config.broker.account}:function:${config.broker.functionName}`;
}

/** Where the member template creates its IAM role: the first configured region only. */
export function iamRegion(config: InfraConfig): string {
  return config.regions[0] as string;
}
