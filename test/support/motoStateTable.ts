import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { serviceTarget } from '../../lib/aws/signedRequest';
import type { ItemStore } from '../../lib/items/itemStore';
import { signedItemStore } from '../../lib/items/signedItemStore';
import { readServiceDefinition } from '../../local/serviceDefinition';
import { type MotoServer, startMotoServer } from './moto';

const REGION = 'ap-southeast-1';

/**
 * The state table, as serverless.yml defines it (its keys and billing), on moto's DynamoDB for the describe block
 * that calls this: kf-bridge's signed item calls against an AWS implementation other than DynamoDB Local.
 */
export function motoStateTable(table: string): {
  signed: () => ItemStore;
  sdk: () => DynamoDBDocumentClient;
  table: () => string;
} {
  let moto: MotoServer;
  let sdk: DynamoDBClient;
  beforeAll(async () => {
    moto = await startMotoServer(REGION);
    sdk = new DynamoDBClient(moto.clientConfig);
    const { Properties } = (await readServiceDefinition()).resources.StateTable as {
      Properties: Omit<CreateTableCommandInput, 'TableName'>;
    };
    await sdk.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: Properties.AttributeDefinitions,
        KeySchema: Properties.KeySchema,
        BillingMode: Properties.BillingMode,
      }),
    );
    await waitUntilTableExists({ client: sdk, maxWaitTime: 30 }, { TableName: table });
  }, 60_000);
  afterAll(async () => {
    sdk?.destroy();
    await moto?.stop();
  });
  return {
    signed: () =>
      signedItemStore({
        target: () =>
          serviceTarget('dynamodb', {
            AWS_REGION: REGION,
            KF_BRIDGE_LOCAL_ENDPOINTS: `dynamodb=${moto.endpoint}`,
          }),
      }),
    sdk: () => DynamoDBDocumentClient.from(sdk),
    table: () => table,
  };
}
