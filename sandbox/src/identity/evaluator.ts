/**
 * The policy evaluator behind policyEnforcer.ts: @cloud-copilot/iam-simulate,
 * a development dependency under AGPL-3.0. It is imported through a variable
 * so bundlers (the packaged app's sandbox bundle) leave it out instead of
 * inlining it; where it cannot be loaded, the sandbox refuses every call that
 * needs a decision with a message saying why (see sandbox/README.md), rather
 * than allowing anything unjudged.
 *
 * iam-simulate's validating entry point (runSimulation) checks the policies,
 * the action, the resource's shape and the context keys; its unchecked one
 * (runUnsafeSimulation) evaluates alone and is several times faster. Each
 * policy and each action goes through the validating one the first time it is
 * seen (so a malformed policy or an unknown action is an error, never a
 * silent deny), and later requests that bring nothing new through the fast one.
 */
import type {
  runSimulation as RunSimulation,
  runUnsafeSimulation as RunUnsafeSimulation,
  Simulation,
} from '@cloud-copilot/iam-simulate';
import type * as IamPolicy from '@cloud-copilot/iam-policy';
import { AwsError } from '../http/awsError';

export type { Simulation } from '@cloud-copilot/iam-simulate';
export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Evaluator {
  name: string;
  evaluate(simulation: Simulation): Promise<Decision>;
}

const EVALUATOR_MODULE: string = '@cloud-copilot/iam-simulate';
/** Its policy parser (same licence), for validating each policy once. */
const POLICY_MODULE: string = '@cloud-copilot/iam-policy';

interface IamSimulate {
  runSimulation: typeof RunSimulation;
  runUnsafeSimulation: typeof RunUnsafeSimulation;
}
type IamPolicyModule = Pick<
  typeof IamPolicy,
  | 'createValidatedPolicy'
  | 'validateIdentityPolicy'
  | 'validateServiceControlPolicy'
  | 'validateResourcePolicy'
>;

export class EvaluatorUnavailable extends AwsError {
  constructor(cause: string) {
    super(
      'InternalFailure',
      `The sandbox cannot decide this request: its IAM policy evaluator (${EVALUATOR_MODULE}, a development dependency) is not installed here (${cause}). Run the sandbox from a checkout with dev dependencies installed (npm ci).`,
      500,
    );
  }
}

/** Why a sandbox without its evaluator does not start: every request after sign-in would be refused. */
export class SandboxUnavailable extends Error {
  constructor() {
    super(
      `The local sandbox needs its IAM policy evaluator (${EVALUATOR_MODULE}), a development dependency that this build leaves out. Run RoleShell from a source checkout (npm install && npm start) to try the sandbox.`,
    );
    this.name = 'SandboxUnavailable';
  }
}

type Validated = IamPolicy.ValidatedPolicy<{ name: string }>;

/**
 * Each policy object wrapped once as iam-policy's ValidatedPolicy: validated
 * when first seen, named (the fast engine needs a name on the resource policy).
 */
function validatedPolicies(policy: IamPolicyModule) {
  const cache = new WeakMap<object, Validated>();
  const wrap = (doc: object, name: string, validate: (p: unknown) => IamPolicy.ValidationError[]) => {
    let v = cache.get(doc);
    if (!v) cache.set(doc, (v = policy.createValidatedPolicy(doc, validate, { name })));
    return v;
  };
  return (simulation: Simulation): { simulation: Simulation; fresh: boolean } => {
    let fresh = false;
    const seen = (doc: object) => {
      if (!cache.has(doc)) fresh = true;
    };
    simulation.identityPolicies.forEach((p) => seen(p.policy as object));
    simulation.serviceControlPolicies.forEach((l) => l.policies.forEach((p) => seen(p.policy as object)));
    if (simulation.resourcePolicy) seen(simulation.resourcePolicy as object);
    return {
      fresh,
      simulation: {
        ...simulation,
        identityPolicies: simulation.identityPolicies.map((p) => ({
          name: p.name,
          policy: wrap(p.policy as object, p.name, policy.validateIdentityPolicy),
        })),
        serviceControlPolicies: simulation.serviceControlPolicies.map((level) => ({
          orgIdentifier: level.orgIdentifier,
          policies: level.policies.map((p) => ({
            name: p.name,
            policy: wrap(p.policy as object, p.name, policy.validateServiceControlPolicy),
          })),
        })),
        ...(simulation.resourcePolicy
          ? {
              resourcePolicy: wrap(
                simulation.resourcePolicy as object,
                'resource-policy',
                policy.validateResourcePolicy,
              ),
            }
          : {}),
      },
    };
  };
}

/** What validation depends on besides the policies: the action, the resource's type, the context keys. */
function shapeOf({ request }: Simulation): string {
  const arn = request.resource.resource.split(':');
  const kind = arn.length > 5 ? `${arn[2]}:${arn[5]!.split('/')[0]}` : request.resource.resource;
  return `${request.action} ${kind} ${Object.keys(request.contextVariables).sort().join(',')}`;
}

export function iamSimulateEvaluator(
  module: IamSimulate,
  policy: IamPolicyModule,
  options: { crossCheck?: boolean } = {},
): Evaluator {
  const validated = validatedPolicies(policy);
  /** Action, resource type and context key names already validated together. */
  const validatedShapes = new Set<string>();
  const checked = async (simulation: Simulation): Promise<Decision> => {
    const result = await module.runSimulation(simulation, {});
    if (result.resultType === 'error')
      throw new AwsError(
        'InternalFailure',
        `The sandbox could not evaluate IAM policies for ${simulation.request.action} on ${simulation.request.resource.resource}: ${JSON.stringify(result.errors)}`,
        500,
      );
    return result.overallResult;
  };
  return {
    name: EVALUATOR_MODULE,
    async evaluate(raw) {
      const { simulation, fresh } = validated(raw);
      const shape = shapeOf(simulation);
      if (fresh || !validatedShapes.has(shape) || options.crossCheck) {
        const decision = await checked(simulation);
        validatedShapes.add(shape);
        if (!options.crossCheck) return decision;
        const fast = module.runUnsafeSimulation(simulation, {});
        if (fast !== decision)
          throw new Error(
            `iam-simulate's engines disagree on ${simulation.request.action} ${simulation.request.resource.resource}: ${decision} vs ${fast}`,
          );
        return decision;
      }
      return module.runUnsafeSimulation(simulation, {});
    },
  };
}

export async function loadEvaluator(
  options: {
    crossCheck?: boolean;
    /** Another module name (tests of the missing case). */ module?: string;
  } = {},
): Promise<Evaluator> {
  let module: IamSimulate;
  let policy: IamPolicyModule;
  try {
    module = (await import(options.module ?? EVALUATOR_MODULE)) as IamSimulate;
    policy = (await import(POLICY_MODULE)) as IamPolicyModule;
  } catch (error) {
    const cause = (error as Error).message.split('\n')[0] ?? String(error);
    return {
      name: 'none',
      evaluate: () => Promise.reject(new EvaluatorUnavailable(cause)),
    };
  }
  return iamSimulateEvaluator(module, policy, options);
}
