import type { TestProject } from 'vitest/node';
import { readServiceDefinition } from '../../local/serviceDefinition';
import { startLocalStack } from '../../local/stack';

export interface ProvidedStack {
  region: string;
  env: Record<string, string>;
  queues: Record<string, string>;
  queueArns: Record<string, string>;
  endpoints: { dynamodb: string; sqs: string; s3: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    localStack: ProvidedStack;
  }
}

/** Starts the embedded stack once for the integration tests, on free ports, with serverless.yml's resources. */
export default async function setup(project: TestProject) {
  const definition = await readServiceDefinition();
  const stack = await startLocalStack({ resources: definition.resources, region: definition.region });
  project.provide('localStack', {
    region: stack.region,
    env: stack.env,
    queues: stack.queues,
    queueArns: stack.queueArns,
    endpoints: stack.endpoints,
  });
  return () => stack.stop();
}
