import type { CreatedResources } from './resources';
import type { ServiceDefinition } from './serviceDefinition';
import type { EventSourceMapping } from './sqsEventSource';

interface SqsEvent {
  arn?: unknown;
  batchSize?: number;
  functionResponseType?: string;
}

/** The SQS event sources declared on functions in serverless.yml, resolved to the local queues. */
export function sqsMappingsOf(
  definition: ServiceDefinition,
  resources: Pick<CreatedResources, 'queues' | 'queueArns'>,
): EventSourceMapping[] {
  const mappings: EventSourceMapping[] = [];
  for (const [name, fn] of Object.entries(definition.functions)) {
    for (const event of fn.events ?? []) {
      const sqs = (event as { sqs?: SqsEvent }).sqs;
      if (!sqs) continue;
      const logicalId = (sqs.arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
      const queueUrl = logicalId ? resources.queues[logicalId] : undefined;
      if (!logicalId || !queueUrl)
        throw new Error(`function ${name}: sqs event must reference a declared queue with Fn::GetAtt`);
      mappings.push({
        functionName: name,
        queueUrl,
        queueArn: resources.queueArns[logicalId] ?? '',
        batchSize: sqs.batchSize ?? 10,
        reportBatchItemFailures: sqs.functionResponseType === 'ReportBatchItemFailures',
      });
    }
  }
  return mappings;
}
