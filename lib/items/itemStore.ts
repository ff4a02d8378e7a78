/**
 * The item calls the state table's stores make, in the SDK's document style (lib-dynamodb's GetCommand and
 * UpdateCommand inputs, values as plain JS), so a store does not care whether the SDK's DynamoDBDocumentClient
 * (./documentClientItemStore.ts) or our own signed requests (./signedItemStore.ts) carry them: the callback
 * keeps the DynamoDB SDK out of its bundle, every other function keeps the SDK.
 */

/** An item, or the key of one, as plain JS values. */
export type Item = Record<string, unknown>;

/** What DynamoDB says a call consumed, when asked (`ReturnConsumedCapacity`): the bench meters it. */
export interface ConsumedCapacity {
  readonly TableName?: string;
  readonly CapacityUnits?: number;
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
}

export type ReturnConsumedCapacity = 'TOTAL' | 'INDEXES' | 'NONE';

export interface GetItemInput {
  readonly TableName: string;
  readonly Key: Item;
  readonly ConsistentRead?: boolean;
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface UpdateItemInput {
  readonly TableName: string;
  readonly Key: Item;
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ExpressionAttributeValues?: Item;
  readonly ReturnValues?: 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface GetItemOutput {
  readonly Item?: Item;
  readonly ConsumedCapacity?: ConsumedCapacity;
}

export interface UpdateItemOutput {
  readonly Attributes?: Item;
  readonly ConsumedCapacity?: ConsumedCapacity;
}

export interface ItemCallOptions {
  /** The caller's deadline: the call ends with it. */
  readonly signal?: AbortSignal;
}

/**
 * A failed condition is thrown as an error that `isConditionFailure` (lib/dynamo.ts) recognises; anything else
 * as the implementation's own error.
 */
export interface ItemStore {
  get(input: GetItemInput, options?: ItemCallOptions): Promise<GetItemOutput>;
  update(input: UpdateItemInput, options?: ItemCallOptions): Promise<UpdateItemOutput>;
}
