import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ItemStore } from './itemStore';

/** The item calls over the SDK's DocumentClient, as every function but the callback makes them. */
export function documentClientItemStore(db: DynamoDBDocumentClient): ItemStore {
  return {
    get: (input, options) => db.send(new GetCommand(input), { abortSignal: options?.signal }),
    update: (input, options) => db.send(new UpdateCommand(input), { abortSignal: options?.signal }),
  };
}
