/** Extra IAM roles tests add to the default org, in prod-workloads (222222222222). */
import type { OrgFile } from '../org/schema';

export const PROD = '222222222222';

export const testRoles: NonNullable<OrgFile['roles']> = [
  {
    name: 'ChainTarget',
    accounts: [PROD],
    trust: { principals: [PROD], setSourceIdentity: true, tagSession: true },
    policy: {
      actions: [
        'sts:AssumeRole',
        'sts:SetSourceIdentity',
        'sts:TagSession',
        'ssm:*',
        'ec2:DescribeInstances',
        'tag:GetResources',
      ],
      sessionDocuments: ['*'],
    },
  },
  {
    name: 'ChainTarget2',
    accounts: [PROD],
    trust: { principals: [`arn:aws:iam::${PROD}:role/ChainTarget`], setSourceIdentity: true },
    policy: { actions: ['ssm:DescribeSessions'] },
  },
  {
    name: 'NoSourceIdentity',
    accounts: [PROD],
    trust: { principals: [PROD] },
  },
  {
    name: 'TaggedRunAs',
    accounts: [PROD],
    tags: { SSMSessionRunAs: 'role-tag-user' },
    trust: { principals: [PROD], tagSession: true },
    policy: { actions: ['ssm:StartSession'], sessionDocuments: ['RoleShell-*'] },
  },
];
