import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CloudFormationResource } from './serviceDefinition';

export interface CreatedResources {
  /** Queue URL by CloudFormation logical id. */
  readonly queues: Record<string, string>;
  /** Queue ARN by CloudFormation logical id. */
  readonly queueArns: Record<string, string>;
  readonly tables: Record<string, string>;
  readonly buckets: Record<string, string>;
}

type Clients = { sqs: SQSClient; dynamodb: DynamoDBClient; s3: S3Client };

function getAttArn(value: unknown): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  return getAtt?.[1] === 'Arn' ? getAtt[0] : undefined;
}

const QUEUE_ATTRIBUTES = [
  'FifoQueue',
  'ContentBasedDeduplication',
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'MaximumMessageSize',
  'ReceiveMessageWaitTimeSeconds',
  'DeduplicationScope',
  'FifoThroughputLimit',
];

/**
 * Creates exactly the queues, tables and buckets a CloudFormation template declares, with their
 * attributes, so local runs exercise the same FIFO, redrive and key rules as AWS.
 */
export async function createResources(
  resources: Record<string, CloudFormationResource>,
  clients: Clients,
): Promise<CreatedResources> {
  const created: CreatedResources = { queues: {}, queueArns: {}, tables: {}, buckets: {} };
  const arns = created.queueArns;

  const createQueue = async (logicalId: string, stack: string[] = []): Promise<void> => {
    if (created.queues[logicalId]) return;
    if (stack.includes(logicalId)) throw new Error(`queue redrive cycle through ${logicalId}`);
    const properties = resources[logicalId]?.Properties ?? {};
    const attributes: Record<string, string> = {};
    for (const name of QUEUE_ATTRIBUTES)
      if (properties[name] !== undefined) attributes[name] = String(properties[name]);
    const redrive = properties.RedrivePolicy as
      | { deadLetterTargetArn?: unknown; maxReceiveCount?: number }
      | undefined;
    if (redrive) {
      const dlq = getAttArn(redrive.deadLetterTargetArn);
      if (!dlq || resources[dlq]?.Type !== 'AWS::SQS::Queue')
        throw new Error(`${logicalId}: dead-letter target must be a declared queue`);
      await createQueue(dlq, [...stack, logicalId]);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: arns[dlq],
        maxReceiveCount: redrive.maxReceiveCount,
      });
    }
    const name = String(properties.QueueName ?? logicalId);
    const { QueueUrl } = await clients.sqs.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    if (!QueueUrl) throw new Error(`${logicalId}: no queue URL returned`);
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    created.queues[logicalId] = QueueUrl;
    arns[logicalId] = Attributes?.QueueArn ?? '';
  };

  for (const [logicalId, resource] of Object.entries(resources)) {
    const properties = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        await createQueue(logicalId);
        break;
      case 'AWS::DynamoDB::Table': {
        const name = String(properties.TableName ?? logicalId);
        await clients.dynamodb.send(
          new CreateTableCommand({
            TableName: name,
            AttributeDefinitions: properties.AttributeDefinitions as never,
            KeySchema: properties.KeySchema as never,
            GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes as never,
            LocalSecondaryIndexes: properties.LocalSecondaryIndexes as never,
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
        const ttl = properties.TimeToLiveSpecification as
          | { AttributeName?: string; Enabled?: boolean }
          | undefined;
        if (ttl?.Enabled && ttl.AttributeName) {
          await clients.dynamodb.send(
            new UpdateTimeToLiveCommand({
              TableName: name,
              TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
            }),
          );
        }
        created.tables[logicalId] = name;
        break;
      }
      case 'AWS::S3::Bucket': {
        const name = String(properties.BucketName ?? logicalId.toLowerCase());
        await clients.s3.send(new CreateBucketCommand({ Bucket: name }));
        created.buckets[logicalId] = name;
        break;
      }
    }
  }
  return created;
}
