import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createResources } from '../../local/resources';

const PAIRS = [
  ['SyncJobsQueue', 'SyncJobsDlq', 'sync-jobs'],
  ['InboundQueue', 'InboundDlq', 'inbound'],
  ['OutboundQueue', 'OutboundDlq', 'outbound'],
] as const;

/**
 * The three queues with dead-letter queues, as serverless.yml pairs them (same logical ids), under names of the
 * test's own so it shares no queue with other tests. Answers URL and name by logical id.
 */
export async function createQueuePairs(sqs: SQSClient) {
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const resources = Object.fromEntries(
    PAIRS.flatMap(([source, dlq, name]) => [
      [
        source,
        {
          Type: 'AWS::SQS::Queue',
          Properties: {
            QueueName: `${name}-${suffix}.fifo`,
            FifoQueue: true,
            ContentBasedDeduplication: false,
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 },
          },
        },
      ],
      [
        dlq,
        { Type: 'AWS::SQS::Queue', Properties: { QueueName: `${name}-${suffix}-dlq.fifo`, FifoQueue: true } },
      ],
    ]),
  );
  const created = await createResources(resources, {
    sqs,
    dynamodb: new DynamoDBClient({}),
    s3: new S3Client({}),
  });
  const names = Object.fromEntries(
    Object.entries(resources).map(([id, resource]) => [id, String(resource.Properties.QueueName)]),
  );
  const url = (id: string) => created.queues[id] ?? '';
  return {
    urls: created.queues,
    names,
    /** The settings that point kf-bridge at them. */
    env: {
      SYNC_JOBS_QUEUE_URL: url('SyncJobsQueue'),
      INBOUND_QUEUE_URL: url('InboundQueue'),
      OUTBOUND_QUEUE_URL: url('OutboundQueue'),
    },
  };
}
