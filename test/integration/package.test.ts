// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are compared as written
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { GetPolicyCommand, LambdaClient, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS, METRICS_NAMESPACE, type MetricName } from '../../lib/metrics';
import { ROOT, readServiceDefinition } from '../../local/serviceDefinition';
import { type DeployedResource, deployToMoto, startMotoServer } from '../support/moto';
import { describeWithPythonTools, PYTHON_TOOLS_INSTALL } from '../support/pythonTools';
import {
  logicalName,
  packageProd,
  type Resource,
  readTemplate,
  type Template,
} from '../support/serverlessPackage';
import { testEnv } from '../support/wechat';

const run = promisify(execFile);
let out: string;
let functions: string[];
let template: Template;
/** The same stage packaged with its optional parts on: the fixed egress IP and the callback's function URL. */
let egressOut: string;
let egress: Template;
const OPTIONAL_PARTS = ['fixedEgressIp=true', 'callbackFunctionUrl=true', 'callbackReservedConcurrency=50'];

beforeAll(async () => {
  functions = Object.keys((await readServiceDefinition()).functions);
  out = await packageProd();
  template = await readTemplate(out);
  egressOut = await packageProd(...OPTIONAL_PARTS);
  egress = await readTemplate(egressOut);
}, 180_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
  await rm(egressOut, { recursive: true, force: true });
});

async function unzip(zipPath: string, into: string) {
  const zip = await JSZip.loadAsync(await readFile(zipPath));
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    const target = join(into, entry.name);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, await entry.async('nodebuffer'));
  }
  return Object.keys(zip.files);
}

describe('serverless package', () => {
  it('produces one bundle per function and a CloudFormation template', async () => {
    const files = await readdir(out);
    expect(files.filter((file) => file.endsWith('.zip')).sort()).toEqual(
      functions.map((name) => `${name}.zip`).sort(),
    );
    expect(files).toContain('cloudformation-template-update-stack.json');
  });

  it('ships each handler with the package.json Lambda needs to load it as ESM, and it loads', async () => {
    for (const name of functions) {
      const into = await mkdtemp(join(tmpdir(), 'kf-bridge-zip-'));
      const entries = await unzip(join(out, `${name}.zip`), into);
      expect(entries).toEqual(expect.arrayContaining([`functions/${name}.js`, 'functions/package.json']));
      expect(entries.some((entry) => entry.startsWith('node_modules/'))).toBe(false);
      expect(JSON.parse(await readFile(join(into, 'functions/package.json'), 'utf8'))).toEqual({
        type: 'module',
      });
      // Load it as the nodejs24.x runtime would: a plain `node` import of the .js file, no loader, no TypeScript.
      const probe = `const m = await import('./functions/${name}.js'); console.log(typeof m.handler);`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: into,
        env: { PATH: process.env.PATH, ...testEnv, AWS_REGION: 'ap-southeast-1' },
      });
      expect(stdout.trim(), name).toBe('function');
      await rm(into, { recursive: true, force: true });
    }
  });

  it('keeps secrets out of the template: deployed stages read them from SSM', async () => {
    for (const name of functions) {
      const variables = resource(`${logicalName(name)}LambdaFunction`).Properties.Environment.Variables;
      expect(variables.KF_BRIDGE_SSM_PREFIX, name).toBe('/kf-bridge/prod/');
      for (const [variable, value] of Object.entries(variables)) {
        if (
          /^(WECOM_|MP_)|_API_KEY$|SECRET|TOKEN$|AES_KEY/.test(variable) &&
          variable !== 'WECOM_WELCOME_TEXT'
        )
          expect(value, `${name} ${variable}`).toBe('');
      }
    }
    expect(JSON.stringify(template)).not.toMatch(/local-demo|local-admin|kfbridgeDemo/);
  });
});

const resource = (id: string): Resource => {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id} in the template`);
  return found;
};
const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

const VPC_ACCESS_WHEN_FIXED_EGRESS = {
  'Fn::If': [
    'FixedEgressIp',
    [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole' }],
    { Ref: 'AWS::NoValue' },
  ],
};

/** What each function may do, and nothing more: actions by the resource they apply to. */
const EXPECTED_GRANTS: Record<string, Record<string, string[]>> = {
  callback: {
    'sqs:SendMessage': ['SyncJobsQueue', 'InboundQueue'],
    'dynamodb:UpdateItem': ['StateTable BUDGET#*#mp PUSH#*'],
  },
  // The messages API puts requests on outbound.fifo, nothing on the queues consumers read.
  api: {
    'sqs:SendMessage': ['OutboundQueue'],
    'dynamodb:GetItem dynamodb:UpdateItem': ['StateTable SEND#*'],
  },
  admin: {
    'sqs:SendMessage sqs:GetQueueAttributes': ['OutboundQueue', 'SyncJobsQueue', 'InboundQueue'],
    'sqs:ReceiveMessage sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:GetQueueAttributes': [
      'SyncJobsDlq',
      'InboundDlq',
      'OutboundDlq',
    ],
    'dynamodb:GetItem dynamodb:UpdateItem': ['StateTable SEND#* TOKEN#* REDRIVE#*'],
    'dynamodb:GetItem dynamodb:PutItem': ['StateTable MEDIA#*'],
    'dynamodb:GetItem': ['StateTable SENDMSGID#* MSGID#* BUDGET#*'],
    'dynamodb:Query': ['StateTable CURSORS#*'],
    'dynamodb:UpdateItem': ['StateTable BUDGET#*'],
    's3:GetObject': ['MediaBucket/*'],
    's3:ListBucket': ['MediaBucket'],
  },
  syncPuller: {
    'sqs:ReceiveMessage sqs:DeleteMessage sqs:ChangeMessageVisibility sqs:GetQueueAttributes': [
      'SyncJobsQueue',
    ],
    'sqs:SendMessage': ['SyncJobsQueue', 'InboundQueue', 'OutboundQueue'],
    'dynamodb:GetItem dynamodb:UpdateItem dynamodb:Query': ['StateTable CURSORS#*'],
    'dynamodb:BatchGetItem dynamodb:BatchWriteItem': ['StateTable MSGID#*'],
    'dynamodb:GetItem dynamodb:UpdateItem': ['StateTable BUDGET#* SENDMSGID#* SEND#* TOKEN#*'],
    's3:PutObject': ['MediaBucket/media/*', 'MediaBucket/quarantine/*'],
  },
  sender: {
    'sqs:ReceiveMessage sqs:DeleteMessage sqs:ChangeMessageVisibility sqs:GetQueueAttributes': [
      'OutboundQueue',
    ],
    'dynamodb:GetItem dynamodb:UpdateItem': ['StateTable SEND#* SENDMSGID#* BUDGET#* TOKEN#*'],
    'dynamodb:GetItem dynamodb:PutItem': ['StateTable MEDIA#*'],
    's3:GetObject': ['MediaBucket/*'],
    's3:ListBucket': ['MediaBucket'],
  },
  tokenRefresh: { 'dynamodb:GetItem dynamodb:UpdateItem': ['StateTable TOKEN#*'] },
  statsExport: {
    'dynamodb:GetItem dynamodb:PutItem dynamodb:DeleteItem': ['StateTable EXPORT#*'],
    'dynamodb:GetItem dynamodb:UpdateItem': ['StateTable TOKEN#*'],
    's3:PutObject': ['ReportsBucket/reports/*'],
  },
};

/** A statement's resources, named the way EXPECTED_GRANTS names them: state-table items with their key prefixes. */
function resourceNames(statement: { Resource: unknown; Condition?: unknown }): string[] {
  const leadingKeys = (statement.Condition as Record<string, Record<string, string[]>> | undefined)?.[
    'ForAllValues:StringLike'
  ]?.['dynamodb:LeadingKeys'];
  return [statement.Resource].flat().map((r) => {
    const value = r as { 'Fn::GetAtt'?: [string, string]; 'Fn::Sub'?: string };
    const name = value['Fn::GetAtt']
      ? value['Fn::GetAtt'][0]
      : (value['Fn::Sub'] ?? String(r)).replace(/^\$\{(\w+)\.Arn\}/, '$1');
    return leadingKeys ? [name, ...leadingKeys].join(' ') : name;
  });
}

describe('the CloudFormation template', () => {
  it('gives every function a role of its own, with only the actions and resources it uses', () => {
    expect(
      ofType('AWS::IAM::Role')
        .map(([id]) => id)
        .sort(),
    ).toEqual(functions.map((name) => `${logicalName(name)}Role`).sort());
    for (const name of functions) {
      expect(resource(`${logicalName(name)}LambdaFunction`).Properties.Role).toEqual(
        arnOf(`${logicalName(name)}Role`),
      );
      const statements = resource(`${logicalName(name)}Role`).Properties.Policies.flatMap(
        (policy: { PolicyDocument: { Statement: unknown[] } }) => policy.PolicyDocument.Statement,
      ) as { Effect: string; Action: string[]; Resource: unknown; Condition?: unknown }[];
      const grants: Record<string, string[]> = {};
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        for (const action of statement.Action) expect(action, name).not.toContain('*');
        const actions = statement.Action.join(' ');
        if (actions === 'ssm:GetParameters') {
          // Which parameters, exactly, is test/integration/iam.test.ts's to check.
          for (const parameter of [statement.Resource].flat())
            expect((parameter as { 'Fn::Sub': string })['Fn::Sub']).toMatch(
              /^arn:\$\{AWS::Partition\}:ssm:\$\{AWS::Region\}:\$\{AWS::AccountId\}:parameter\/kf-bridge\/prod\/(\*_)?[A-Z_]+$/,
            );
        } else if (actions === 'kms:Decrypt') {
          // The only grant on "*": decryption of SecureString settings, and only through SSM.
          expect(statement.Condition).toEqual({
            StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } },
          });
        } else if (actions === 'logs:CreateLogStream logs:PutLogEvents') {
          expect(resourceNames(statement)).toEqual([
            `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/kf-bridge-prod-${name}:*`,
          ]);
        } else {
          expect(statement.Resource, `${name} ${actions}`).not.toBe('*');
          expect(grants[actions], `${name} ${actions} in one statement`).toBeUndefined();
          grants[actions] = resourceNames(statement);
        }
      }
      expect(grants, name).toEqual(EXPECTED_GRANTS[name]);
      // No policy reaches a role but its inline ones, and the VPC access policy when the egress IP is on.
      expect([undefined, VPC_ACCESS_WHEN_FIXED_EGRESS]).toContainEqual(
        resource(`${logicalName(name)}Role`).Properties.ManagedPolicyArns,
      );
    }
    expect(ofType('AWS::IAM::Policy').concat(ofType('AWS::IAM::ManagedPolicy'))).toEqual([]);
  });

  it('routes the messages API to api, and the admin API and the OpenAPI document to admin', () => {
    const functionOf = (target: unknown) => {
      const integration = JSON.stringify(target).match(/"Ref":"(\w+)"/)?.[1] ?? '';
      return resource(integration).Properties.IntegrationUri['Fn::GetAtt'][0];
    };
    expect(
      Object.fromEntries(
        ofType('AWS::ApiGatewayV2::Route').map(([, route]) => [
          route.Properties.RouteKey,
          functionOf(route.Properties.Target),
        ]),
      ),
    ).toEqual({
      'GET /callback/{app}': 'CallbackLambdaFunction',
      'POST /callback/{app}': 'CallbackLambdaFunction',
      'POST /v1/messages': 'ApiLambdaFunction',
      'GET /v1/messages/{requestId}': 'ApiLambdaFunction',
      'ANY /v1/admin/{proxy+}': 'AdminLambdaFunction',
      'GET /v1/openapi.json': 'AdminLambdaFunction',
    });
  });

  it("gives every queue a dead-letter queue, and a visibility timeout of at least 6 times its consumer's timeout", () => {
    const queues = ofType('AWS::SQS::Queue');
    const deadLetterQueues = new Set(
      queues.flatMap(([, q]) =>
        q.Properties.RedrivePolicy ? [q.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]] : [],
      ),
    );
    for (const [id, queue] of queues) {
      if (deadLetterQueues.has(id)) continue;
      const target = queue.Properties.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0];
      expect(target && resource(target).Type, id).toBe('AWS::SQS::Queue');
      expect(queue.Properties.RedrivePolicy.maxReceiveCount, id).toBeGreaterThan(0);
    }
    expect(deadLetterQueues).toEqual(new Set(['SyncJobsDlq', 'InboundDlq', 'OutboundDlq']));
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(2);
    for (const [, mapping] of mappings) {
      const queue = resource(mapping.Properties.EventSourceArn['Fn::GetAtt'][0]);
      const fn = resource(mapping.Properties.FunctionName['Fn::GetAtt'][0]);
      expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Properties.Timeout);
      expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    }
  });

  it('alarms on dead letters, old messages, failed token refreshes and throttled pushes from the metrics AWS keeps', () => {
    const alarms = Object.fromEntries(ofType('AWS::CloudWatch::Alarm'));
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties.AlarmActions).toEqual([ref('AlarmTopic')]);
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
    }
    const queueOf = (id: string) => alarms[id]?.Properties.Dimensions[0].Value['Fn::GetAtt'][0];
    const metricOf = (id: string) =>
      `${alarms[id]?.Properties.Namespace} ${alarms[id]?.Properties.MetricName}`;
    for (const dlq of ['SyncJobsDlq', 'InboundDlq', 'OutboundDlq']) {
      expect(queueOf(`${dlq}Alarm`)).toBe(dlq);
      expect(metricOf(`${dlq}Alarm`)).toBe('AWS/SQS ApproximateNumberOfMessagesVisible');
      expect(alarms[`${dlq}Alarm`]?.Properties.Threshold).toBe(0);
    }
    expect(queueOf('InboundOldestMessageAlarm')).toBe('InboundQueue');
    expect(metricOf('InboundOldestMessageAlarm')).toBe('AWS/SQS ApproximateAgeOfOldestMessage');
    expect(queueOf('SyncJobsOldestMessageAlarm')).toBe('SyncJobsQueue');
    expect(metricOf('TokenRefreshFailureAlarm')).toBe('AWS/Lambda Errors');
    expect(alarms.TokenRefreshFailureAlarm?.Properties.Dimensions).toEqual([
      { Name: 'FunctionName', Value: ref('TokenRefreshLambdaFunction') },
    ]);
    // Lambda refuses a push over the callback's concurrency before the callback can count it.
    expect(metricOf('CallbackThrottlesAlarm')).toBe('AWS/Lambda Throttles');
    expect(alarms.CallbackThrottlesAlarm?.Properties).toMatchObject({
      Dimensions: [{ Name: 'FunctionName', Value: ref('CallbackLambdaFunction') }],
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('keeps logs 30 days, state on demand with point-in-time recovery and TTL, reports private, encrypted, expiring', () => {
    const logGroups = ofType('AWS::Logs::LogGroup');
    expect(logGroups).toHaveLength(functions.length);
    for (const [, group] of logGroups) expect(group.Properties.RetentionInDays).toBe(30);
    expect(resource('StateTable').Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    expect(resource('ReportsBucket').Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: { Rules: [{ Status: 'Enabled', ExpirationInDays: expect.any(Number) }] },
    });
  });

  it("outputs both queues' URLs and ARNs and the media bucket, for consumers, direct callers and their policies", () => {
    expect(template.Outputs).toMatchObject({
      InboundQueueUrl: { Value: ref('InboundQueue') },
      InboundQueueArn: { Value: arnOf('InboundQueue') },
      OutboundQueueUrl: { Value: ref('OutboundQueue') },
      OutboundQueueArn: { Value: arnOf('OutboundQueue') },
      MediaBucketName: { Value: ref('MediaBucket') },
      // The partition is aws-cn in China regions: a policy takes the ARN from here rather than writing arn:aws.
      MediaBucketArn: { Value: arnOf('MediaBucket') },
    });
    for (const name of ['InboundQueueUrl', 'InboundQueueArn', 'OutboundQueueUrl', 'OutboundQueueArn'])
      expect(template.Outputs[name], name).not.toHaveProperty('Condition');
  });

  it('gives the callback a function URL only with callbackFunctionUrl=true, open to signed pushes, and reserves concurrency only when asked', () => {
    const urlParts = (t: Template) =>
      Object.entries(t.Resources).filter(
        ([, r]) =>
          r.Type === 'AWS::Lambda::Url' ||
          (r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === '*'),
      );
    expect(urlParts(template)).toEqual([]);
    expect(Object.keys(template.Outputs)).not.toContain('CallbackLambdaFunctionUrl');
    const callback = arnOf('CallbackLambdaFunction');
    expect(Object.fromEntries(urlParts(egress))).toEqual({
      CallbackLambdaFunctionUrl: expect.objectContaining({
        Type: 'AWS::Lambda::Url',
        Properties: { AuthType: 'NONE', TargetFunctionArn: callback },
      }),
      // Since October 2025 a function URL needs both permissions (AWS, "Control access to function URLs").
      CallbackLambdaPermissionFnUrl: expect.objectContaining({
        Properties: {
          FunctionName: callback,
          Action: 'lambda:InvokeFunctionUrl',
          Principal: '*',
          FunctionUrlAuthType: 'NONE',
        },
      }),
      CallbackLambdaPermissionFn: expect.objectContaining({
        Properties: {
          FunctionName: callback,
          Action: 'lambda:InvokeFunction',
          Principal: '*',
          InvokedViaFunctionUrl: true,
        },
      }),
    });
    expect(egress.Outputs.CallbackLambdaFunctionUrl?.Value).toEqual({
      'Fn::GetAtt': ['CallbackLambdaFunctionUrl', 'FunctionUrl'],
    });
    // The HTTP API's routes stay: the URL given to WeCom and MP is the company's choice.
    expect(egress.Outputs.CallbackUrl).toEqual(template.Outputs.CallbackUrl);
    for (const name of functions)
      expect(template.Resources[`${logicalName(name)}LambdaFunction`]?.Properties, name).not.toHaveProperty(
        'ReservedConcurrentExecutions',
      );
    expect(egress.Resources.CallbackLambdaFunction?.Properties.ReservedConcurrentExecutions).toBe(50);
  });

  it('refuses a reserved concurrency that is not a whole number when packaging, naming the setting', async () => {
    for (const asked of ['abc', '-1', '2.5', '0', '05'])
      await expect(packageProd(`callbackReservedConcurrency=${asked}`)).rejects.toMatchObject({
        stdout: expect.stringContaining(
          `callbackReservedConcurrency must be a whole number of executions from 1, or empty, not '${asked}'`,
        ),
      });
  }, 120_000);

  it('has no fixed egress IP by default, and with fixedEgressIp=true a NAT gateway on an Elastic IP for the WeCom callers', () => {
    const egressResources = Object.entries(template.Resources).filter(
      ([, r]) => r.Condition === 'FixedEgressIp',
    );
    expect(egressResources.length).toBeGreaterThan(0);
    expect(template.Conditions.FixedEgressIp).toEqual({ 'Fn::Equals': ['false', 'true'] });
    expect(egress.Conditions.FixedEgressIp).toEqual({ 'Fn::Equals': ['true', 'true'] });
    const r = egress.Resources;
    expect(r.EgressNatGateway?.Properties.AllocationId).toEqual({
      'Fn::GetAtt': ['EgressIp', 'AllocationId'],
    });
    expect(r.EgressIp?.Properties.Domain).toBe('vpc');
    expect(r.EgressPrivateRoute?.Properties).toMatchObject({
      DestinationCidrBlock: '0.0.0.0/0',
      NatGatewayId: ref('EgressNatGateway'),
    });
    expect(egress.Outputs.EgressIp).toEqual(
      expect.objectContaining({ Condition: 'FixedEgressIp', Value: ref('EgressIp') }),
    );
    for (const name of functions) {
      const vpc = r[`${logicalName(name)}LambdaFunction`]?.Properties.VpcConfig;
      if (name === 'callback' || name === 'api') {
        // The callback and the messages API never call WeCom: they stay out of the VPC and its cold start.
        expect(vpc).toBeUndefined();
        continue;
      }
      expect(vpc, name).toEqual({
        'Fn::If': [
          'FixedEgressIp',
          {
            SecurityGroupIds: [ref('EgressSecurityGroup')],
            SubnetIds: [ref('EgressPrivateSubnetA'), ref('EgressPrivateSubnetB')],
          },
          ref('AWS::NoValue'),
        ],
      });
      expect(JSON.stringify(r[`${logicalName(name)}Role`]?.Properties.ManagedPolicyArns)).toContain(
        'AWSLambdaVPCAccessExecutionRole',
      );
    }
  });
});

/** The error-level findings of cfn-lint on a template; warnings pass, as CloudFormation deploys with them. */
async function cfnLintErrors(file: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('cfn-lint', ['--format', 'json', file]));
  } catch (error) {
    // cfn-lint exits non-zero when it found anything; a missing cfn-lint has no output to read.
    const found = (error as { stdout?: string }).stdout;
    if (!found)
      throw new Error(`cfn-lint did not run; install with: ${PYTHON_TOOLS_INSTALL}`, { cause: error });
    stdout = found;
  }
  return (JSON.parse(stdout) as { Level: string; Rule: { Id: string }; Message: string }[])
    .filter((finding) => finding.Level === 'Error')
    .map((finding) => `${finding.Rule.Id} ${finding.Message}`);
}

/**
 * Types moto's CloudFormation does not implement: it accepts the template and creates nothing for them.
 * cfn-lint checks them against CloudFormation's own resource schemas.
 */
const NOT_IN_MOTO = [
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Stage',
  'AWS::CloudWatch::Alarm',
  'AWS::Lambda::Url',
  'AWS::S3::BucketPolicy',
];
/** Of those, the types moto refuses a template over (its stack output names the function URL): deployed without. */
const LEFT_OUT_OF_MOTO = ['AWS::Lambda::Url'];

/**
 * moto names no physical id for a function's version or permission: the function's published versions and its
 * resource policy show them instead.
 */
async function createdWithoutId(
  lambda: LambdaClient,
  declared: Resource,
  byId: Map<string | undefined, DeployedResource>,
): Promise<boolean> {
  const target = declared.Properties.FunctionName;
  const FunctionName = byId.get(target?.Ref ?? target?.['Fn::GetAtt']?.[0])?.physicalId;
  if (!FunctionName) return false;
  if (declared.Type === 'AWS::Lambda::Version') {
    const { Versions = [] } = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName }));
    return Versions.some((version) => version.Version !== '$LATEST');
  }
  if (declared.Type === 'AWS::Lambda::Permission') {
    const { Policy = '{}' } = await lambda.send(new GetPolicyCommand({ FunctionName }));
    const statements = (JSON.parse(Policy) as { Statement?: { Principal?: string | { Service?: string } }[] })
      .Statement;
    // A service's principal is named as one; a function URL's is everyone, "*".
    const principalOf = ({ Principal }: { Principal?: string | { Service?: string } }) =>
      typeof Principal === 'string' ? Principal : Principal?.Service;
    return !!statements?.some((statement) => principalOf(statement) === declared.Properties.Principal);
  }
  return false;
}

/** Evaluates the template's conditions, all of which compare literals once the stage is packaged. */
function holds(condition: unknown): boolean {
  const { 'Fn::Equals': equals, 'Fn::Not': not } = condition as {
    'Fn::Equals'?: unknown[];
    'Fn::Not'?: unknown[];
  };
  if (equals) return equals[0] === equals[1];
  if (not) return !holds(not[0]);
  throw new Error(`cannot evaluate condition ${JSON.stringify(condition)}`);
}

describeWithPythonTools('the packaged template, outside our own reading', () => {
  const variants = () => [
    { name: 'default', folder: out, template },
    { name: OPTIONAL_PARTS.join(' '), folder: egressOut, template: egress },
  ];

  it('passes cfn-lint with no errors, with and without the optional parts', async () => {
    for (const { name, folder } of variants())
      for (const file of [
        'cloudformation-template-create-stack.json',
        'cloudformation-template-update-stack.json',
      ])
        expect(await cfnLintErrors(join(folder, file)), `${name} ${file}`).toEqual([]);
  });

  it('deploys to an independent CloudFormation (moto) with every resource created, with and without the optional parts', async () => {
    const moto = await startMotoServer();
    const lambda = new LambdaClient(moto.clientConfig);
    const problems: string[] = [];
    try {
      for (const { name, folder, template: packaged } of variants()) {
        await deployToMoto(
          moto,
          folder,
          async (deployed) => {
            const byId = new Map(deployed.filter((r) => r.logicalId).map((r) => [r.logicalId, r]));
            const expected = Object.entries(packaged.Resources).filter(
              ([, r]) => !r.Condition || holds(packaged.Conditions[r.Condition]),
            );
            const notCreated = new Set<string>();
            for (const [id, declared] of expected) {
              const created = byId.get(id);
              if (NOT_IN_MOTO.includes(declared.Type)) {
                if (created)
                  problems.push(`${name} ${id}: moto now creates ${declared.Type}; check it like the rest`);
                notCreated.add(declared.Type);
              } else if (
                created?.type !== declared.Type ||
                !/^(CREATE|UPDATE)_COMPLETE$/.test(created.status ?? '') ||
                !(created.physicalId || (await createdWithoutId(lambda, declared, byId)))
              )
                problems.push(`${name} ${id}: ${JSON.stringify(created)}`);
            }
            const declaredNotInMoto = NOT_IN_MOTO.filter((type) => expected.some(([, r]) => r.Type === type));
            if ([...notCreated].sort().join() !== declaredNotInMoto.join())
              problems.push(`${name}: not created ${[...notCreated].sort().join()}`);
            // Nothing is there whose condition is false.
            const unexpected = [...byId.keys()].filter((id) => !expected.some(([e]) => e === id));
            if (unexpected.length) problems.push(`${name}: unexpected ${unexpected.join()}`);
          },
          LEFT_OUT_OF_MOTO,
        );
      }
    } finally {
      lambda.destroy();
      await moto.stop();
    }
    expect(problems).toEqual([]);
  }, 240_000);
});

/** One metric an alarm reads: kf-bridge's own or AWS's, with its dimensions by name. */
interface AlarmedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Record<string, unknown>;
}

/** The metrics an alarm reads, whether it reads one or sums several (metric math). */
function alarmedMetrics(alarm: Resource): AlarmedMetric[] {
  const dimensionsOf = (list: { Name: string; Value: unknown }[] = []) =>
    Object.fromEntries(list.map(({ Name, Value }) => [Name, Value]));
  const { Namespace, MetricName, Dimensions, Metrics } = alarm.Properties;
  if (!Metrics) return [{ namespace: Namespace, name: MetricName, dimensions: dimensionsOf(Dimensions) }];
  return (Metrics as { MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: [] } } }[])
    .filter((query) => query.MetricStat)
    .map(({ MetricStat }) => ({
      namespace: MetricStat?.Metric.Namespace ?? '',
      name: MetricStat?.Metric.MetricName ?? '',
      dimensions: dimensionsOf(MetricStat?.Metric.Dimensions),
    }));
}

describe('alarms on the metrics kf-bridge emits', () => {
  const alarms = () => Object.fromEntries(ofType('AWS::CloudWatch::Alarm'));
  /** The functions' own metrics each alarm reads, as `service metric {dimensions beyond service and stage}`. */
  const ownMetrics = (id: string) =>
    alarmedMetrics(resource(id)).map(({ namespace, name, dimensions }) => {
      expect(namespace, id).toBe(METRICS_NAMESPACE);
      const { service, stage, ...rest } = dimensions;
      expect(stage, id).toBe('prod');
      return `${service} ${name} ${JSON.stringify(rest)}`;
    });

  it('reads no log text: no metric filter is left for a reworded line to silence', () => {
    expect(ofType('AWS::Logs::MetricFilter')).toEqual([]);
  });

  it('reads only metrics the code emits, with a dimension set it writes, from a function that writes it', async () => {
    const emitters = new Map<string, string>();
    for (const name of functions)
      emitters.set(name, await readFile(join(ROOT, `functions/${name}.ts`), 'utf8'));
    const own = Object.entries(alarms()).flatMap(([id, alarm]) =>
      alarmedMetrics(alarm)
        .filter((metric) => metric.namespace === METRICS_NAMESPACE)
        .map((metric) => ({ id, ...metric })),
    );
    expect(own.length).toBeGreaterThan(0);
    for (const { id, name, dimensions } of own) {
      expect(Object.keys(METRICS), id).toContain(name);
      const sets = METRICS[name as MetricName].sets.map((set) => ['service', 'stage', ...set].sort().join());
      expect(sets, id).toContain(Object.keys(dimensions).sort().join());
      // The service dimension is the name a function gives its metrics.
      expect(emitters.get(String(dimensions.service)), `${id} ${dimensions.service}`).toContain(
        `createMetrics('${dimensions.service}'`,
      );
    }
  });

  it('alarms on sync lag, rejected credentials, 95xxx refusals, quarantined messages and uncertain replies', () => {
    expect(ownMetrics('SyncLagAlarm')).toEqual(['syncPuller SyncLagSeconds {}']);
    expect(resource('SyncLagAlarm').Properties.Statistic).toBe('Maximum');
    // Every function that fetches tokens, or calls the kf API, counts; the alarm sums them.
    expect(ownMetrics('CredentialsRejectedAlarm').sort()).toEqual(
      ['admin', 'sender', 'statsExport', 'syncPuller', 'tokenRefresh'].map(
        (f) => `${f} CredentialsRejected {}`,
      ),
    );
    expect(ownMetrics('KfRefusalRateAlarm').sort()).toEqual(
      ['admin', 'sender', 'statsExport', 'syncPuller'].map(
        (f) => `${f} PlatformRefusals {"errcodeRange":"95xxx"}`,
      ),
    );
    for (const id of ['CredentialsRejectedAlarm', 'KfRefusalRateAlarm']) {
      const queries = resource(id).Properties.Metrics as {
        Id: string;
        Expression?: string;
        ReturnData: boolean;
      }[];
      const summed = queries.filter((query) => !query.Expression).map((query) => query.Id);
      expect(queries.filter((query) => query.ReturnData)).toEqual([
        expect.objectContaining({ Expression: `SUM([${summed.join(', ')}])` }),
      ]);
    }
    expect(ownMetrics('InboundQuarantineAlarm')).toEqual(['syncPuller InboundQuarantined {}']);
    expect(ownMetrics('UncertainRepliesAlarm')).toEqual(['sender Replies {"status":"uncertain"}']);
  });

  it('alarms on the pushes the callback refuses, for each platform', () => {
    expect(ownMetrics('MpCallbackRejectionsAlarm')).toEqual([
      'callback CallbackRejections {"platform":"mp"}',
    ]);
    expect(ownMetrics('WecomCallbackRejectionsAlarm')).toEqual([
      'callback CallbackRejections {"platform":"wecom"}',
    ]);
  });

  it('has every alarm the README lists', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const listed = [...readme.matchAll(/`(\w+Alarm)`/g)].map(([, id]) => id);
    expect(listed.length).toBeGreaterThan(0);
    for (const id of listed) expect(Object.keys(alarms()), id).toContain(id);
  });
});
