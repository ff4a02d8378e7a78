import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../lib/aws/clientConfig';
import { createResources } from '../../local/resources';
import { localStack, sqsClient } from '../support/aws';

const stack = localStack();

describe('createResources', () => {
  it('creates DynamoDB tables with their keys, indexes and TTL, and S3 buckets, in the embedded engines', async () => {
    const dynamodb = new DynamoDBClient({ region: stack.region, ...awsClientConfig('dynamodb', stack.env) });
    const s3 = new S3Client({ region: stack.region, ...awsClientConfig('s3', stack.env) });
    const suffix = Date.now().toString(36);
    const created = await createResources(
      {
        State: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            TableName: `state-${suffix}`,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: 'pk', AttributeType: 'S' },
              { AttributeName: 'sk', AttributeType: 'S' },
              { AttributeName: 'gsi1pk', AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            GlobalSecondaryIndexes: [
              {
                IndexName: 'gsi1',
                KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'ALL' },
              },
            ],
            TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          },
        },
        Reports: { Type: 'AWS::S3::Bucket', Properties: { BucketName: `reports-${suffix}` } },
      },
      { sqs: sqsClient(), dynamodb, s3 },
    );
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: created.tables.State }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('gsi1');
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: created.tables.State }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
    await expect(s3.send(new HeadBucketCommand({ Bucket: `reports-${suffix}` }))).resolves.toBeDefined();
  });

  it('refuses a redrive target that is not a declared queue', async () => {
    await expect(
      createResources(
        {
          Q: {
            Type: 'AWS::SQS::Queue',
            Properties: { RedrivePolicy: { deadLetterTargetArn: 'arn:aws:sqs:x:y:z', maxReceiveCount: 1 } },
          },
        },
        { sqs: sqsClient(), dynamodb: new DynamoDBClient({}), s3: new S3Client({}) },
      ),
    ).rejects.toThrow('Q: dead-letter target must be a declared queue');
  });
});
