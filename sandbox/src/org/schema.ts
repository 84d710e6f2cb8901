/**
 * The org file: who exists in the sandbox's fake AWS organization. Validated with
 * zod so a typo in a hand-written YAML file is reported with its path
 * ("instances[3].id: …") instead of surfacing later as a confusing AWS error.
 */
import { z } from 'zod';
import { permissionSetRoleSuffix } from '../identity/ids';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account ID');
const iamName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_+=,.@-]');
const permissionSetName = z
  .string()
  .regex(/^[\w+=,.@-]{1,32}$/, 'must be 1-32 characters of [A-Za-z0-9_+=,.@-] (a permission set name)');
const region = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1');

export const userSchema = z.object({
  userName: z.string().min(1).max(128),
  userId: z.string().min(1),
  displayName: z.string().min(1),
  email: z.string().email(),
});

export const accountSchema = z.object({
  id: accountId,
  name: z.string().min(1).max(50),
  email: z.string().email(),
  /** Member accounts hold workloads (instances, the RoleShell target role and documents). */
  member: z.boolean().default(true),
});

export const permissionSetSchema = z.object({
  name: permissionSetName,
  description: z.string().optional(),
  /**
   * Session documents this permission set's role may name in ssm:StartSession when it
   * calls SSM itself (direct mode), as an IAM policy with ssm:SessionDocumentAccessCheck.
   * Glob `*` allowed.
   */
  sessionDocuments: z.array(z.string().min(1)).default([]),
  /** Seconds role credentials from the portal last (the permission set's session duration). */
  sessionDurationSeconds: z.number().int().min(900).max(43_200).default(3600),
  assignments: z
    .array(z.object({ user: z.string().min(1), accounts: z.array(accountId).min(1) }))
    .default([]),
});

/** The `inputs` of a Session document, exactly as AWS names them. */
export const sessionDocumentInputsSchema = z
  .object({
    runAsEnabled: z.boolean().optional(),
    runAsDefaultUser: z.string().optional(),
    idleSessionTimeout: z
      .string()
      .regex(/^([1-9]|[1-5]\d|60)$/, 'must be "1"-"60" (minutes)')
      .optional(),
    maxSessionDuration: z
      .string()
      .regex(/^([1-9]\d{0,2}|1[0-3]\d\d|14[0-3]\d|1440)$/, 'must be "1"-"1440" (minutes)')
      .optional(),
    shellProfile: z.object({ linux: z.string().optional(), windows: z.string().optional() }).optional(),
    kmsKeyId: z.string().optional(),
    s3BucketName: z.string().optional(),
    s3KeyPrefix: z.string().optional(),
    s3EncryptionEnabled: z.boolean().optional(),
    cloudWatchLogGroupName: z.string().optional(),
    cloudWatchEncryptionEnabled: z.boolean().optional(),
    cloudWatchStreamingEnabled: z.boolean().optional(),
  })
  .strict();

export const sessionDocumentContentSchema = z.object({
  schemaVersion: z.literal('1.0'),
  description: z.string().optional(),
  sessionType: z.enum(['Standard_Stream', 'InteractiveCommands', 'NonInteractiveCommands', 'Port']),
  inputs: sessionDocumentInputsSchema.default({}),
});

export const sessionDocumentSchema = z.object({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9_\-.:/]{3,128}$/, 'must match ^[a-zA-Z0-9_\\-.:/]{3,128}$ (an SSM document name)')
    .refine(
      (n) => !/^(aws|amazon|amzn|AWSEC2|AWSConfigRemediation|AWSSupport)/i.test(n),
      'custom documents may not start with aws, amazon or amzn',
    ),
  /** Accounts that hold this document (each gets its own copy, as a StackSet would deploy it). */
  accounts: z.array(accountId).min(1),
  content: sessionDocumentContentSchema,
});

const principalPattern = z
  .string()
  .regex(
    /^(\d{12}|arn:aws:iam::\d{12}:(role|root)(\/[\w+=,.@/-]+)?|arn:aws:sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+|\*)$/,
    'must be an account ID, an IAM role ARN, an assumed-role ARN or *',
  );

export const roleSchema = z.object({
  name: iamName,
  /**
   * IAM path, `/` by default. Paths under `/aws-reserved/` are AWS's own (IdC
   * provisions its permission-set roles there), so the org file cannot use them:
   * an "impostor" named like a permission-set role still has an ordinary path.
   */
  path: z
    .string()
    .max(512)
    .regex(/^\/([\w+=,.@-]+\/)*$/, 'must be an IAM path: "/" or "/segment/…/"')
    .default('/'),
  /** The role exists in each of these accounts. */
  accounts: z.array(accountId).min(1),
  description: z.string().optional(),
  /** Trust policy: who may sts:AssumeRole it, and whether they may set SourceIdentity / session tags. */
  trust: z
    .object({
      principals: z.array(principalPattern).default([]),
      services: z.array(z.string()).default([]),
      setSourceIdentity: z.boolean().default(false),
      tagSession: z.boolean().default(false),
    })
    .default({ principals: [], services: [], setSourceIdentity: false, tagSession: false }),
  /** IAM tags on the role itself (e.g. SSMSessionRunAs). */
  tags: z.record(z.string(), z.string()).default({}),
  maxSessionDurationSeconds: z.number().int().min(3600).max(43_200).default(3600),
  /**
   * Its identity policies as IAM policy JSON (as deployed); when given, `policy` is ignored.
   * Resource ARNs may use `${aws:PrincipalAccount}` for the role's own account.
   */
  policyDocuments: z.array(z.record(z.string(), z.unknown())).optional(),
  /** Its trust policy as IAM policy JSON (as deployed); when given, `trust` is ignored for AssumeRole. */
  trustPolicy: z.record(z.string(), z.unknown()).optional(),
  /** The identity policy in short form, written out as policy JSON by identity/orgPolicies.ts. */
  policy: z
    .object({
      /** Allowed actions, e.g. ssm:StartSession, ssm:*, ec2:DescribeInstances, sts:AssumeRole. */
      actions: z
        .array(z.string().regex(/^[a-z0-9-]+:[A-Za-z*]+$/, 'must look like service:Action'))
        .default([]),
      /** Session documents ssm:StartSession may name (globs), i.e. ssm:SessionDocumentAccessCheck. */
      sessionDocuments: z.array(z.string()).default([]),
    })
    .default({ actions: [], sessionDocuments: [] }),
});

export const functionSchema = z.object({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9-_]{1,64}$/, 'must be 1-64 characters of [a-zA-Z0-9-_] (a function name)'),
  account: accountId,
  region,
  /** Handler module path, relative to the project root (the folder holding package.json above the org file). */
  module: z.string().min(1),
  handler: z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be the exported function name'),
  /** Execution role name (in the function's account). */
  role: iamName,
  timeoutSeconds: z.number().int().min(1).max(900).default(30),
  memorySize: z.number().int().min(128).max(10_240).default(512),
  environment: z.record(z.string(), z.string()).default({}),
  /**
   * Resource policy: who may lambda:InvokeFunction. `org` = any principal of the
   * org's accounts; else account IDs or role / assumed-role ARNs.
   */
  invokers: z.array(z.union([z.literal('org'), principalPattern])).default(['org']),
});

export const instanceSchema = z.object({
  id: z.string().regex(/^i-[0-9a-f]{17}$/, 'must be i- followed by 17 hex digits'),
  name: z.string().min(1),
  account: accountId,
  region,
  platform: z.literal('Linux').default('Linux'),
  platformName: z.string().default('Amazon Linux'),
  platformVersion: z.string().default('2023'),
  pingStatus: z.enum(['Online', 'ConnectionLost']).default('Online'),
  state: z.enum(['running', 'stopped']).default('running'),
  instanceType: z.string().default('t3.micro'),
  privateIpAddress: z
    .string()
    .regex(/^\d+\.\d+\.\d+\.\d+$/)
    .optional(),
  tags: z.record(z.string(), z.string()).default({}),
  /**
   * Linux users that exist on the instance. Default: root, ssm-user and every
   * runAsDefaultUser of the session documents in its account.
   */
  linuxUsers: z
    .array(z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user name ([a-z_][a-z0-9_-]{0,31})'))
    .optional(),
});

export const orgSchema = z
  .object({
    /** IdC start URL; the sandbox matches it, no DNS involved. */
    startUrl: z.string().url(),
    /** IdC (home) region. */
    region,
    identityStoreId: z.string().regex(/^d-[0-9a-f]{10}$/, 'must be d- followed by 10 hex digits'),
    /** aws:PrincipalOrgID of the org's principals (default: derived from identityStoreId). */
    organizationId: z
      .string()
      .regex(/^o-[a-z0-9]{10,32}$/, 'must be o- followed by 10-32 lowercase letters or digits')
      .optional(),
    users: z.array(userSchema).min(1),
    accounts: z.array(accountSchema).min(1),
    permissionSets: z.array(permissionSetSchema).default([]),
    sessionDocuments: z.array(sessionDocumentSchema).default([]),
    roles: z.array(roleSchema).default([]),
    functions: z.array(functionSchema).default([]),
    instances: z.array(instanceSchema).default([]),
  })
  .superRefine((org, ctx) => {
    const accounts = new Set(org.accounts.map((a) => a.id));
    const users = new Set(org.users.map((u) => u.userName));
    const dup = <T>(items: T[], key: (t: T) => string, path: string) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        const k = key(item);
        if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [path, i], message: `duplicate ${k}` });
        seen.add(k);
      });
    };
    dup(org.users, (u) => u.userName, 'users');
    dup(org.accounts, (a) => a.id, 'accounts');
    dup(org.permissionSets, (p) => p.name, 'permissionSets');
    dup(org.instances, (i) => i.id, 'instances');
    dup(org.functions, (f) => f.name, 'functions');
    const unknownAccount = (id: string, path: (string | number)[]) => {
      if (!accounts.has(id)) ctx.addIssue({ code: 'custom', path, message: `unknown account ${id}` });
    };
    org.permissionSets.forEach((ps, i) =>
      ps.assignments.forEach((a, j) => {
        if (!users.has(a.user))
          ctx.addIssue({
            code: 'custom',
            path: ['permissionSets', i, 'assignments', j, 'user'],
            message: `unknown user ${a.user}`,
          });
        a.accounts.forEach((id, k) =>
          unknownAccount(id, ['permissionSets', i, 'assignments', j, 'accounts', k]),
        );
      }),
    );
    org.sessionDocuments.forEach((d, i) =>
      d.accounts.forEach((id, k) => unknownAccount(id, ['sessionDocuments', i, 'accounts', k])),
    );
    org.roles.forEach((r, i) =>
      r.accounts.forEach((id, k) => unknownAccount(id, ['roles', i, 'accounts', k])),
    );
    // IAM role names are unique per account, and IdC's own roles already take theirs.
    const idcRoles = new Set(
      org.permissionSets.flatMap((ps) =>
        ps.assignments.flatMap((a) =>
          a.accounts.map(
            (id) =>
              `${id}/AWSReservedSSO_${ps.name}_${permissionSetRoleSuffix(org.identityStoreId, id, ps.name)}`,
          ),
        ),
      ),
    );
    const declared = new Set<string>();
    org.roles.forEach((r, i) => {
      if (r.path.startsWith('/aws-reserved/'))
        ctx.addIssue({
          code: 'custom',
          path: ['roles', i, 'path'],
          message: 'paths under /aws-reserved/ are created by AWS only',
        });
      r.accounts.forEach((id, k) => {
        const roleKey = `${id}/${r.name}`;
        if (idcRoles.has(roleKey) || declared.has(roleKey))
          ctx.addIssue({
            code: 'custom',
            path: ['roles', i, 'accounts', k],
            message: `account ${id} already has a role named ${r.name}`,
          });
        declared.add(roleKey);
      });
    });
    org.instances.forEach((inst, i) => unknownAccount(inst.account, ['instances', i, 'account']));
    org.functions.forEach((f, i) => {
      unknownAccount(f.account, ['functions', i, 'account']);
      if (!org.roles.some((r) => r.name === f.role && r.accounts.includes(f.account)))
        ctx.addIssue({
          code: 'custom',
          path: ['functions', i, 'role'],
          message: `no role ${f.role} in account ${f.account}`,
        });
    });
  });

/** An org file as written (defaults optional). */
export type OrgFile = z.input<typeof orgSchema>;
/** A validated org, defaults applied. */
export type Org = z.output<typeof orgSchema>;
export type OrgUser = Org['users'][number];
export type OrgAccount = Org['accounts'][number];
export type OrgPermissionSet = Org['permissionSets'][number];
export type OrgSessionDocument = Org['sessionDocuments'][number];
export type OrgRole = Org['roles'][number];
export type OrgFunction = Org['functions'][number];
export type OrgInstance = Org['instances'][number];

/** Readable one-issue-per-line message naming the path of each problem. */
export function formatOrgIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join('');
    return `  ${path || '(root)'}: ${issue.message}`;
  });
  return `Invalid org file ${source}:\n${lines.join('\n')}`;
}
