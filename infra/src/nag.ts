/**
 * cdk-nag (v3) runs as a CDK policy-validation plugin: any finding that is not
 * acknowledged stops the synthesis with a report. Every acknowledgement in this
 * folder goes through `acknowledge` with the reason it is acceptable.
 */
import { Validations, type App } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
// cdk-nag is CommonJS whose exports Node's ESM loader cannot all detect by name; take them from the default export.
import cdkNag from 'cdk-nag';

export function checkWithAwsSolutions(app: App): void {
  Validations.of(app).addPlugins(new cdkNag.AwsSolutionsChecks(app, { verbose: true }));
}

/**
 * `finding` is the rule id (`AwsSolutions-DDB3`), or `RuleId[FindingId]` for one finding of a
 * rule that reports several (`AwsSolutions-IAM5[Resource::*]`).
 */
export function acknowledge(construct: IConstruct, finding: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `AwsSolutions::${finding}`, reason });
}
