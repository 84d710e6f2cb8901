/**
 * Test function: reports its Lambda environment, how many times this warm
 * worker has been invoked, and who STS says it is (via the unmodified SDK,
 * pointed at the sandbox only by AWS_ENDPOINT_URL).
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

let invocations = 0;

export async function handler(event: unknown, context: { awsRequestId: string; invokedFunctionArn: string }) {
  invocations += 1;
  console.log(`echo invoked ${invocations}`);
  const sts = new STSClient({});
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  return {
    event,
    invocations,
    awsRequestId: context.awsRequestId,
    invokedFunctionArn: context.invokedFunctionArn,
    env: {
      AWS_REGION: process.env.AWS_REGION,
      AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME,
      AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
      CUSTOM: process.env.CUSTOM,
      HOME_AWS_KEY_IS_SANDBOX: process.env.AWS_ACCESS_KEY_ID?.startsWith('ASIA'),
    },
    callerArn: identity.Arn,
  };
}
