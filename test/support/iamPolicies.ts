// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders are matched as written
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { AwsCall, AwsTarget } from '../../local/metering';
import { logicalName, type Template } from './serverlessPackage';

export type PolicyDocument = { Version: string; Statement: Record<string, unknown>[] };

/** Where the template's resources are taken to live: the account, region and physical names of a stack. */
export type Placement = Pick<AwsTarget, 'accountId' | 'region' | 'physicalIds'>;

/** The ARN `Fn::GetAtt [id, Arn]` gives, for the resource types the roles refer to. */
function arnOf(template: Template, id: string, placement: Placement): string {
  const type = template.Resources[id]?.Type;
  const name = placement.physicalIds[id];
  if (!name) throw new Error(`no physical name for ${id}`);
  const { region, accountId } = placement;
  switch (type) {
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${region}:${accountId}:${name}`;
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${name}`;
    default:
      throw new Error(`no ARN for ${id} (${type})`);
  }
}

/** Resolves the intrinsic functions a role's policies use; anything else is refused, not guessed. */
function resolve(value: unknown, template: Template, placement: Placement): unknown {
  if (Array.isArray(value)) return value.map((item) => resolve(item, template, placement));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first?.[0].startsWith('Fn::')) {
    const [fn, args] = first;
    if (fn === 'Fn::GetAtt' && Array.isArray(args) && args[1] === 'Arn')
      return arnOf(template, String(args[0]), placement);
    if (fn === 'Fn::Sub' && typeof args === 'string')
      return args.replace(/\$\{([\w:]+)(\.Arn)?\}/g, (_, name: string, arn?: string) => {
        if (name === 'AWS::Partition') return 'aws';
        if (name === 'AWS::Region') return placement.region;
        if (name === 'AWS::AccountId') return placement.accountId;
        if (arn) return arnOf(template, name, placement);
        throw new Error(`cannot resolve \${${name}}`);
      });
    throw new Error(`cannot resolve ${fn} in a policy`);
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolve(item, template, placement)]));
}

/** The inline policies of a function's role, resolved as if its resources were placed as given. */
export function rolePolicies(
  template: Template,
  functionName: string,
  placement: Placement,
): PolicyDocument[] {
  const role = template.Resources[`${logicalName(functionName)}LambdaFunction`]?.Properties.Role;
  const roleId = role?.['Fn::GetAtt']?.[0] as string | undefined;
  const policies = (roleId && template.Resources[roleId]?.Properties.Policies) as
    | { PolicyDocument: unknown }[]
    | undefined;
  if (!policies) throw new Error(`${functionName} has no role with inline policies`);
  return policies.map((policy) => resolve(policy.PolicyDocument, template, placement) as PolicyDocument);
}

/** Whether the policies allow the call, as IAM would decide it; a request the simulator cannot parse throws. */
export async function allows(
  policies: PolicyDocument[],
  call: Omit<AwsCall, 'functionName'> & {
    context?: Record<string, string | string[]>;
    /** A resource policy that must allow too, as a KMS key's does. */
    resourcePolicy?: PolicyDocument;
  },
  accountId: string,
): Promise<boolean> {
  const answer = await runSimulation(
    {
      identityPolicies: policies.map((policy, i) => ({ name: `policy${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(call.resourcePolicy && { resourcePolicy: call.resourcePolicy }),
      request: {
        principal: `arn:aws:sts::${accountId}:assumed-role/function-role/function`,
        action: call.action,
        resource: { resource: call.resource, accountId },
        contextVariables: {
          ...(call.leadingKeys && { 'dynamodb:LeadingKeys': [...call.leadingKeys] }),
          ...call.context,
        },
      },
    },
    {},
  );
  if (answer.resultType === 'error')
    throw new Error(`cannot simulate ${call.action} on ${call.resource}: ${JSON.stringify(answer.errors)}`);
  return answer.overallResult === 'Allowed';
}
