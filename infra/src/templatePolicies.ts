/**
 * Reads the policies back out of the synthesized templates, resolved for one
 * account and region, so a policy evaluator can judge requests against exactly
 * what is deployed: the member target role's trust and permissions, the SCP,
 * and the broker function's resource policy.
 */
type Json = unknown;

export interface TemplateScope {
  partition: string;
  account: string;
  region: string;
}

interface CfnResource {
  Type: string;
  Properties: Record<string, Json>;
  Condition?: string;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

/** Resolves the intrinsics the RoleShell templates use (Ref to pseudo parameters and resources, Fn::Join). */
export function resolveIntrinsics(
  value: Json,
  scope: TemplateScope,
  refs: Record<string, string> = {},
): Json {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, scope, refs));
  if (value && typeof value === 'object') {
    const obj = value as Record<string, Json>;
    if ('Ref' in obj) {
      const name = String(obj.Ref);
      const pseudo: Record<string, string> = {
        'AWS::Partition': scope.partition,
        'AWS::AccountId': scope.account,
        'AWS::Region': scope.region,
      };
      const resolved = pseudo[name] ?? refs[name];
      if (resolved === undefined) throw new Error(`cannot resolve Ref ${name}`);
      return resolved;
    }
    if ('Fn::Join' in obj) {
      const [separator, parts] = obj['Fn::Join'] as [string, Json[]];
      return parts.map((p) => String(resolveIntrinsics(p, scope, refs))).join(separator);
    }
    if ('Fn::GetAtt' in obj) {
      const [resource, attribute] = obj['Fn::GetAtt'] as [string, string];
      const resolved = refs[`${resource}.${attribute}`];
      if (resolved === undefined) throw new Error(`cannot resolve Fn::GetAtt ${resource}.${attribute}`);
      return resolved;
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, resolveIntrinsics(v, scope, refs)]));
  }
  return value;
}

function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export interface RolePolicies {
  roleName: string;
  trustPolicy: Json;
  inlinePolicies: { name: string; policy: Json }[];
  tags: { Key: string; Value: string }[];
}

/**
 * What Ref and Fn::GetAtt(…Arn) of the template's own resources resolve to once deployed, for
 * the resource types the RoleShell stacks reference (log group, table, role, function).
 */
export function resourceRefs(template: CfnTemplate, scope: TemplateScope): Record<string, string> {
  const refs: Record<string, string> = {};
  const { partition: p, region: r, account: a } = scope;
  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const name = (key: string) => (typeof props[key] === 'string' ? (props[key] as string) : id);
    switch (resource.Type) {
      case 'AWS::Logs::LogGroup':
        refs[id] = name('LogGroupName');
        refs[`${id}.Arn`] = `arn:${p}:logs:${r}:${a}:log-group:${name('LogGroupName')}:*`;
        break;
      case 'AWS::DynamoDB::Table':
        refs[id] = name('TableName');
        refs[`${id}.Arn`] = `arn:${p}:dynamodb:${r}:${a}:table/${name('TableName')}`;
        break;
      case 'AWS::IAM::Role':
        refs[id] = name('RoleName');
        refs[`${id}.Arn`] = `arn:${p}:iam::${a}:role/${name('RoleName')}`;
        break;
      case 'AWS::Lambda::Function':
        refs[id] = name('FunctionName');
        refs[`${id}.Arn`] = `arn:${p}:lambda:${r}:${a}:function:${name('FunctionName')}`;
        break;
    }
  }
  return refs;
}

/** IAM roles a template creates, resolved for one account (the member template: the target role). */
export function rolesOf(template: CfnTemplate, scope: TemplateScope): RolePolicies[] {
  const refs = resourceRefs(template, scope);
  return resourcesOfType(template, 'AWS::IAM::Role').map(([, role]) => {
    const props = resolveIntrinsics(role.Properties, scope, refs) as {
      RoleName: string;
      AssumeRolePolicyDocument: Json;
      Policies?: { PolicyName: string; PolicyDocument: Json }[];
      Tags?: { Key: string; Value: string }[];
    };
    return {
      roleName: props.RoleName,
      trustPolicy: props.AssumeRolePolicyDocument,
      inlinePolicies: (props.Policies ?? []).map((p) => ({ name: p.PolicyName, policy: p.PolicyDocument })),
      tags: props.Tags ?? [],
    };
  });
}

/** Session documents a template creates: name -> content. */
export function sessionDocumentsOf(template: CfnTemplate): Record<string, Json> {
  return Object.fromEntries(
    resourcesOfType(template, 'AWS::SSM::Document')
      .filter(([, d]) => d.Properties.DocumentType === 'Session')
      .map(([, d]) => [String(d.Properties.Name), d.Properties.Content]),
  );
}

/** Service control policies of the organization template: name -> policy and the targets it attaches to. */
export function serviceControlPoliciesOf(
  template: CfnTemplate,
): { name: string; policy: Json; targetIds: string[] }[] {
  return resourcesOfType(template, 'AWS::Organizations::Policy')
    .filter(([, p]) => p.Properties.Type === 'SERVICE_CONTROL_POLICY')
    .map(([, p]) => ({
      name: String(p.Properties.Name),
      policy: p.Properties.Content,
      targetIds: p.Properties.TargetIds as string[],
    }));
}

/**
 * The broker function's resource policy, as Lambda builds it from its
 * AWS::Lambda::Permission resources (Principal `*` + PrincipalOrgID becomes an
 * aws:PrincipalOrgID condition).
 */
export function lambdaResourcePolicyOf(template: CfnTemplate, functionArn: string): Json {
  const statements = resourcesOfType(template, 'AWS::Lambda::Permission').map(([id, permission]) => {
    const props = permission.Properties as { Action: string; Principal: string; PrincipalOrgID?: string };
    return {
      Sid: id,
      Effect: 'Allow',
      Principal:
        props.Principal === '*'
          ? '*'
          : /^\d{12}$/.test(props.Principal)
            ? { AWS: props.Principal }
            : { Service: props.Principal },
      Action: props.Action,
      Resource: functionArn,
      ...(props.PrincipalOrgID
        ? { Condition: { StringEquals: { 'aws:PrincipalOrgID': props.PrincipalOrgID } } }
        : {}),
    };
  });
  return { Version: '2012-10-17', Statement: statements };
}
