/**
 * Test function doing what the broker does: assume the member target role with
 * RoleSessionName and SourceIdentity = the user, then StartSession with the
 * permission set's document.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';

export async function handler(event: {
  accountId: string;
  user: string;
  target: string;
  documentName: string;
  tags?: { Key: string; Value: string }[];
}) {
  const sts = new STSClient({});
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${event.accountId}:role/RoleShellTarget`,
      RoleSessionName: event.user,
      SourceIdentity: event.user,
      Tags: event.tags,
    }),
  );
  const ssm = new SSMClient({
    credentials: {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    },
  });
  const session = await ssm.send(
    new StartSessionCommand({
      Target: event.target,
      DocumentName: event.documentName,
      Reason: `RoleShell for ${event.user}`,
    }),
  );
  return { SessionId: session.SessionId, StreamUrl: session.StreamUrl };
}
