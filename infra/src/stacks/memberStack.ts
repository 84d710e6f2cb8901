/**
 * The member-account template the StackSet deploys to every account of the
 * target OUs, in every configured region: one `RoleShell-<PermissionSet>`
 * session document per mapped permission set, the Linux-user provisioning
 * command document and its State Manager association, and (in the first
 * region only, IAM being global) the target role the broker assumes.
 */
import { Aws, CfnCondition, Fn, Stack, type StackProps, aws_iam as iam, aws_ssm as ssm } from 'aws-cdk-lib';
import { acknowledge } from '../nag';
import type { Construct } from 'constructs';
import { iamRegion, type InfraConfig } from '../config';
import { PERMISSION_SETS_TAG, SSO_ROLE_PATH, targetRolePolicy, targetRoleTrustPolicy } from '../policies';
import { PROVISIONING_DOCUMENT, provisioningDocumentContent } from '../provisioning';
import { sessionDocuments } from '../sessionDocument';

export interface MemberStackProps extends StackProps {
  config: InfraConfig;
}

export class MemberStack extends Stack {
  readonly targetRole: iam.CfnRole;
  readonly documents: ssm.CfnDocument[] = [];

  constructor(scope: Construct, id: string, props: MemberStackProps) {
    super(scope, id, props);
    const { config } = props;

    const inIamRegion = new CfnCondition(this, 'InIamRegion', {
      expression: Fn.conditionEquals(Aws.REGION, iamRegion(config)),
    });

    for (const document of sessionDocuments(config)) {
      this.documents.push(
        new ssm.CfnDocument(this, `SessionDocument${document.permissionSet.replace(/[^A-Za-z0-9]/g, '')}`, {
          name: document.name,
          documentType: 'Session',
          documentFormat: 'JSON',
          content: document.content,
          // The name is fixed (the broker derives it); a change becomes a new default version.
          updateMethod: 'NewVersion',
        }),
      );
    }

    const provisioning = new ssm.CfnDocument(this, 'ProvisionLinuxUsersDocument', {
      name: PROVISIONING_DOCUMENT,
      documentType: 'Command',
      documentFormat: 'JSON',
      content: provisioningDocumentContent(config),
      updateMethod: 'NewVersion',
    });
    const association = new ssm.CfnAssociation(this, 'ProvisionLinuxUsersAssociation', {
      associationName: PROVISIONING_DOCUMENT,
      name: PROVISIONING_DOCUMENT,
      documentVersion: '$DEFAULT',
      targets: [{ key: 'tag-key', values: [PERMISSION_SETS_TAG] }],
      scheduleExpression: config.member.provisioning.schedule,
      // Also when an instance first becomes managed, not only at the next interval.
      applyOnlyAtCronInterval: false,
    });
    association.addResourceDependency(provisioning);

    this.targetRole = new iam.CfnRole(this, 'TargetRole', {
      roleName: config.member.targetRoleName,
      description:
        'Assumed by the RoleShell broker to start sessions with RoleShell documents (no SSMSessionRunAs tag: the document decides the Linux user)',
      assumeRolePolicyDocument: targetRoleTrustPolicy(config, Aws.PARTITION),
      policies: [
        {
          policyName: 'RoleShellBroker',
          policyDocument: targetRolePolicy(config, { partition: Aws.PARTITION, account: Aws.ACCOUNT_ID }),
        },
      ],
      maxSessionDuration: 3600,
    });
    this.targetRole.cfnOptions.condition = inIamRegion;

    const resource = (arn: string) => `AwsSolutions-IAM5[Resource::${arn}]`;
    for (const region of config.regions) {
      for (const arn of [
        `arn:<AWS::Partition>:ec2:${region}:<AWS::AccountId>:instance/*`,
        `arn:<AWS::Partition>:ssm:${region}:<AWS::AccountId>:managed-instance/*`,
      ]) {
        acknowledge(
          this.targetRole,
          resource(arn),
          'Instances are not known in advance: StartSession on them needs the roleshell:permission-sets tag and SessionDocumentAccessCheck (RoleShell documents only).',
        );
      }
      acknowledge(
        this.targetRole,
        resource(`arn:<AWS::Partition>:ssm:${region}:<AWS::AccountId>:session/*`),
        'Session ids are generated; TerminateSession/ResumeSession are limited by condition to sessions whose owner tag (aws:ssmmessages:session-id) is this role session.',
      );
    }
    acknowledge(
      this.targetRole,
      resource(`arn:<AWS::Partition>:iam::<AWS::AccountId>:role${SSO_ROLE_PATH}*`),
      'Identity Center creates its permission-set roles under this path with a generated suffix; the broker reads the caller’s role there (iam:GetRole only) to prove it is a real Identity Center role.',
    );
    acknowledge(
      this.targetRole,
      resource('*'),
      'ssm:DescribeInstanceInformation, ssm:DescribeSessions and tag:GetResources support no resource-level permissions; aws:RequestedRegion limits them to the broker’s regions.',
    );
  }
}
