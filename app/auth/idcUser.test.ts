import { describe, expect, it } from 'vitest';
import { sessionNameOf } from './idcUser';

describe('sessionNameOf', () => {
  it('takes the IdC user from a permission-set session ARN, in every partition', () => {
    expect(
      sessionNameOf('arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice'),
    ).toBe('alice');
    expect(
      sessionNameOf('arn:aws-us-gov:sts::222222222222:assumed-role/AWSReservedSSO_Dev_01/bob@example.com'),
    ).toBe('bob@example.com');
    expect(sessionNameOf('arn:aws-cn:sts::222222222222:assumed-role/AWSReservedSSO_Dev_01/carol')).toBe(
      'carol',
    );
  });

  it('names nobody for anything that is not an assumed-role session', () => {
    expect(sessionNameOf('arn:aws:iam::222222222222:user/alice')).toBeUndefined();
    expect(sessionNameOf('arn:aws:sts::222222222222:federated-user/alice')).toBeUndefined();
    expect(sessionNameOf(undefined)).toBeUndefined();
  });
});
