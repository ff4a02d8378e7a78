import {
  BatchGetCommand,
  type BatchGetCommandInput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { BatchGetOutput, BatchWriteOutput, ItemStore } from './itemStore';

/** The item calls over the SDK's DocumentClient, as local tools make them. */
export function documentClientItemStore(db: DynamoDBDocumentClient): ItemStore {
  return {
    get: (input, options) => db.send(new GetCommand(input), { abortSignal: options?.signal }),
    update: (input, options) => db.send(new UpdateCommand(input), { abortSignal: options?.signal }),
    put: (input, options) => db.send(new PutCommand(input), { abortSignal: options?.signal }),
    delete: (input, options) => db.send(new DeleteCommand(input), { abortSignal: options?.signal }),
    query: (input, options) => db.send(new QueryCommand({ ...input }), { abortSignal: options?.signal }),
    // The SDK's input types are mutable arrays: ours are read-only views of the same shapes.
    batchGet: (input, options) =>
      db.send(new BatchGetCommand(input as BatchGetCommandInput), {
        abortSignal: options?.signal,
      }) as Promise<BatchGetOutput>,
    batchWrite: (input, options) =>
      db.send(new BatchWriteCommand(input as BatchWriteCommandInput), {
        abortSignal: options?.signal,
      }) as Promise<BatchWriteOutput>,
  };
}
