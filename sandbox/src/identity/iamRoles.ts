/**
 * The IAM roles of the sandbox's accounts, as IAM holds them: name, path,
 * unique RoleId and, for the roles the org file declares, their trust and
 * policy. IAM Identity Center provisions one role per permission set in each
 * account it is assigned in, under the path only AWS may use
 * (`/aws-reserved/sso.amazonaws.com/<region>/`). A role deleted and created
 * again under the same name gets a new RoleId, as in IAM (`recreate`).
 */
import { createHash } from 'node:crypto';
import type { Org, OrgFile, OrgRole } from '../org/schema';
import { roleSchema } from '../org/schema';
import { permissionSetRoleSuffix, roleIdFor } from './ids';

export interface IamRole {
  accountId: string;
  roleName: string;
  /** `/` or e.g. `/aws-reserved/sso.amazonaws.com/eu-west-1/`. */
  path: string;
  roleId: string;
  arn: string;
  createDate: Date;
  maxSessionDurationSeconds: number;
  description?: string;
  /** Trust, policy and tags from the org file; absent for roles IdC provisioned (only its SAML federation assumes them). */
  definition?: OrgRole;
  /** Set for the roles IdC provisioned for a permission set. */
  permissionSet?: string;
}

/** What a role is created again with: the org file's role fields, without name and accounts. */
export type RoleReplacement = Omit<NonNullable<OrgFile['roles']>[number], 'name' | 'accounts'>;

/** When every role of the sandbox was first created (a fixed date keeps runs comparable). */
const CREATED = new Date('2026-01-01T00:00:00Z');

export const permissionSetRoleName = (org: Org, accountId: string, permissionSet: string) =>
  `AWSReservedSSO_${permissionSet}_${permissionSetRoleSuffix(org.identityStoreId, accountId, permissionSet)}`;

export const permissionSetRolePath = (org: Org) => `/aws-reserved/sso.amazonaws.com/${org.region}/`;

/** IdC's SAML provider in an account, named as IdC names it. */
export function samlProviderArn(org: Org, accountId: string): string {
  const id = createHash('sha256').update(`${org.identityStoreId}/${accountId}`).digest('hex').slice(0, 16);
  return `arn:aws:iam::${accountId}:saml-provider/AWSSSO_${id}_DO_NOT_DELETE`;
}

const registries = new WeakMap<Org, IamRoles>();

export class IamRoles {
  /** The registry of one validated org (one per sandbox; every service sees the same roles). */
  static of(org: Org): IamRoles {
    let roles = registries.get(org);
    if (!roles) registries.set(org, (roles = new IamRoles(org)));
    return roles;
  }

  private readonly roles = new Map<string, IamRole>();
  private recreated = 0;

  /** Changes whenever a role is recreated (so cached IAM decisions are dropped). */
  get generation(): number {
    return this.recreated;
  }

  private constructor(private readonly org: Org) {
    for (const role of org.roles)
      for (const accountId of role.accounts)
        this.put({
          accountId,
          roleName: role.name,
          path: role.path,
          roleId: roleIdFor(accountId, role.name),
          createDate: CREATED,
          maxSessionDurationSeconds: role.maxSessionDurationSeconds,
          ...(role.description !== undefined ? { description: role.description } : {}),
          definition: role,
        });
    for (const permissionSet of org.permissionSets) {
      const accounts = new Set(permissionSet.assignments.flatMap((a) => a.accounts));
      for (const accountId of accounts) {
        const roleName = permissionSetRoleName(org, accountId, permissionSet.name);
        this.put({
          accountId,
          roleName,
          path: permissionSetRolePath(org),
          roleId: roleIdFor(accountId, roleName),
          createDate: CREATED,
          maxSessionDurationSeconds: permissionSet.sessionDurationSeconds,
          description: `Provisioned by AWS SSO for permission set ${permissionSet.name}`,
          permissionSet: permissionSet.name,
        });
      }
    }
  }

  get(accountId: string, roleName: string): IamRole | undefined {
    return this.roles.get(key(accountId, roleName));
  }

  /**
   * Deletes the role (if any) and creates one of the same name: a new RoleId,
   * and the replacement's path, trust and policy (an ordinary role at `/`
   * unless told otherwise). Sessions of the old role keep the old RoleId.
   */
  recreate(accountId: string, roleName: string, replacement: RoleReplacement = {}): IamRole {
    const definition = roleSchema.parse({ ...replacement, name: roleName, accounts: [accountId] });
    return this.put({
      accountId,
      roleName,
      path: replacement.path ?? '/',
      roleId: roleIdFor(accountId, `${roleName}#${++this.recreated}`),
      createDate: new Date(),
      maxSessionDurationSeconds: definition.maxSessionDurationSeconds,
      ...(definition.description !== undefined ? { description: definition.description } : {}),
      definition,
    });
  }

  private put(role: Omit<IamRole, 'arn'>): IamRole {
    const full: IamRole = { ...role, arn: `arn:aws:iam::${role.accountId}:role${role.path}${role.roleName}` };
    this.roles.set(key(role.accountId, role.roleName), full);
    return full;
  }
}

const key = (accountId: string, roleName: string) => `${accountId}/${roleName}`;
