import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Capability,
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../local/stack';
import { PYTHON_TOOLS_INSTALL } from './pythonTools';

export interface MotoServer {
  readonly endpoint: string;
  /** Client options for the AWS SDK against this server. */
  readonly clientConfig: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  stop(): Promise<void>;
}

/**
 * moto's server: an AWS implementation of its own (CloudFormation, SSM and the services they create), on a
 * free loopback port. It is a Python package (`moto[server]`), installed by .ci/run's checks.
 */
export async function startMotoServer(region = 'ap-southeast-1'): Promise<MotoServer> {
  if (spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status !== 0)
    throw new Error(`moto_server is not on PATH; install with: ${PYTHON_TOOLS_INSTALL}`);
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'pipe',
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${output.trim()}`);
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`moto_server did not start on port ${port}: ${output.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    endpoint,
    clientConfig: { region, endpoint, credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' } },
    stop,
  };
}

export interface DeployedResource {
  readonly logicalId?: string;
  readonly type?: string;
  readonly status?: string;
  readonly physicalId?: string;
}

/**
 * Deploys a packaged service as `serverless deploy` does: the create-stack template (the deployment bucket),
 * the function zips into that bucket, then the full template as an update. `check` sees the stack's resources
 * while they exist; the stack is deleted afterwards. Resources of the `leftOut` types, and the outputs that name
 * them, are taken out of both templates first: moto refuses a whole template over an output of a type it lacks.
 */
export async function deployToMoto(
  moto: MotoServer,
  folder: string,
  check: (resources: DeployedResource[]) => Promise<void>,
  leftOut: readonly string[] = [],
): Promise<void> {
  const templateOf = async (which: 'create' | 'update') => {
    const template = JSON.parse(
      await readFile(join(folder, `cloudformation-template-${which}-stack.json`), 'utf8'),
    );
    for (const [id, { Type }] of Object.entries<{ Type: string }>(template.Resources))
      if (leftOut.includes(Type)) {
        delete template.Resources[id];
        for (const [name, output] of Object.entries(template.Outputs ?? {}))
          if (JSON.stringify(output).includes(`"${id}"`)) delete template.Outputs[name];
      }
    return JSON.stringify(template);
  };
  const cloudFormation = new CloudFormationClient(moto.clientConfig);
  const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  const StackName = `kf-bridge-prod-${Date.now()}`;
  const settled = async (expected: string) => {
    for (;;) {
      const [stack] = (await cloudFormation.send(new DescribeStacksCommand({ StackName }))).Stacks ?? [];
      if (!stack?.StackStatus?.endsWith('_IN_PROGRESS')) {
        if (stack?.StackStatus !== expected)
          throw new Error(`stack ${stack?.StackStatus}: ${stack?.StackStatusReason ?? 'no reason given'}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const resources = async () =>
    ((await cloudFormation.send(new DescribeStackResourcesCommand({ StackName }))).StackResources ?? []).map(
      (r) => ({
        logicalId: r.LogicalResourceId,
        type: r.ResourceType,
        status: r.ResourceStatus,
        physicalId: r.PhysicalResourceId,
      }),
    );
  const capabilities = { Capabilities: [Capability.CAPABILITY_IAM, Capability.CAPABILITY_NAMED_IAM] };
  try {
    await cloudFormation.send(
      new CreateStackCommand({
        StackName,
        TemplateBody: await templateOf('create'),
        ...capabilities,
      }),
    );
    await settled('CREATE_COMPLETE');
    const bucket = (await resources()).find((r) => r.logicalId === 'ServerlessDeploymentBucket')?.physicalId;
    const template = await templateOf('update');
    // Every function's code lies under one artifact folder of the bucket.
    const key = /"S3Key":\s*"([^"]+)\/[^/"]+\.zip"/.exec(template)?.[1];
    if (!bucket || !key) throw new Error('the package names no deployment bucket or artifact folder');
    for (const zip of (await readdir(folder)).filter((file) => file.endsWith('.zip')))
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${key}/${zip}`,
          Body: await readFile(join(folder, zip)),
        }),
      );
    await cloudFormation.send(new UpdateStackCommand({ StackName, TemplateBody: template, ...capabilities }));
    await settled('UPDATE_COMPLETE');
    await check(await resources());
  } finally {
    await cloudFormation.send(new DeleteStackCommand({ StackName })).catch(() => {});
    cloudFormation.destroy();
    s3.destroy();
  }
}
