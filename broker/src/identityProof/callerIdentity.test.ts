import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors';
import { parseCallerIdentity } from './callerIdentity';

const identity = (arn: string, account = '111122223333') => ({
  Arn: arn,
  UserId: `AROAEXAMPLE:${arn.split('/').at(-1)}`,
  Account: account,
});

function rejection(fn: () => unknown): BrokerError {
  try {
    fn();
  } catch (error) {
    return error as BrokerError;
  }
  throw new Error('expected a rejection');
}

describe('parseCallerIdentity', () => {
  it('reads account, permission set and user from an IdC role session', () => {
    expect(
      parseCallerIdentity(
        identity(
          'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice',
        ),
      ),
    ).toEqual({
      arn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice',
      userId: 'AROAEXAMPLE:alice',
      roleId: 'AROAEXAMPLE',
      roleName: 'AWSReservedSSO_AdministratorAccess_0123456789abcdef',
      accountId: '111122223333',
      partition: 'aws',
      permissionSet: 'AdministratorAccess',
      user: 'alice',
    });
  });

  it('matches the 16-hex suffix from the end, so names may contain underscores', () => {
    const caller = parseCallerIdentity(
      identity(
        'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Support_Tier1_a1b2c3d4e5f60718/bob@corp.example',
      ),
    );
    expect(caller.permissionSet).toBe('Support_Tier1');
    expect(caller.user).toBe('bob@corp.example');
    // A name that itself ends in something suffix-like still parses from the end.
    expect(
      parseCallerIdentity(
        identity(
          'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123456789abcdef_fedcba9876543210/al',
        ),
      ).permissionSet,
    ).toBe('Dev_0123456789abcdef');
  });

  it("takes the role's unique ID from UserId, which must name the same session", () => {
    const arn = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/alice';
    expect(
      parseCallerIdentity({ Arn: arn, UserId: 'AROAXYZ123:alice', Account: '111122223333' }).roleId,
    ).toBe('AROAXYZ123');
    for (const UserId of ['AROAXYZ123:bob', 'AIDAXYZ123:alice', 'AROAXYZ123', ':alice']) {
      expect(
        rejection(() => parseCallerIdentity({ Arn: arn, UserId, Account: '111122223333' })).reason,
      ).toMatch(/UserId .* is not <role id>:alice/);
    }
  });

  it('accepts other partitions', () => {
    expect(
      parseCallerIdentity(
        identity('arn:aws-us-gov:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/al'),
      ).partition,
    ).toBe('aws-us-gov');
  });

  it.each([
    ['a plain assumed role', 'arn:aws:sts::111122223333:assumed-role/RoleShellTarget/alice'],
    ['an IAM user', 'arn:aws:iam::111122223333:user/alice'],
    [
      'a look-alike role name',
      'arn:aws:sts::111122223333:assumed-role/XAWSReservedSSO_Dev_0123456789abcdef/alice',
    ],
    ['a short suffix', 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123456789abcde/alice'],
    ['the root user', 'arn:aws:iam::111122223333:root'],
    ['a federated user', 'arn:aws:sts::111122223333:federated-user/alice'],
  ])('refuses %s', (_label, arn) => {
    const error = rejection(() => parseCallerIdentity(identity(arn)));
    expect(error).toBeInstanceOf(BrokerError);
    expect(error.code).toBe('IdentityRejected');
    expect(error.message).not.toContain('111122223333');
  });

  it('refuses an Account that disagrees with the ARN', () => {
    const error = rejection(() =>
      parseCallerIdentity(
        identity(
          'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/alice',
          '444455556666',
        ),
      ),
    );
    expect(error.code).toBe('IdentityRejected');
  });
});
