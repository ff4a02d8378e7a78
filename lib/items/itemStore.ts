/**
 * The item calls the state table's stores make, in the SDK's document style (lib-dynamodb's command inputs and
 * outputs, values as plain JS), so a store does not care whether the SDK's DynamoDBDocumentClient
 * (./documentClientItemStore.ts) or our own signed requests (./signedItemStore.ts) carry them: the functions'
 * hot paths keep the DynamoDB SDK out of their bundles, local tools may keep the SDK. Only the fields the stores
 * pass are here.
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

export interface PutItemInput {
  readonly TableName: string;
  readonly Item: Item;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ExpressionAttributeValues?: Item;
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface DeleteItemInput {
  readonly TableName: string;
  readonly Key: Item;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ExpressionAttributeValues?: Item;
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface QueryInput {
  readonly TableName: string;
  readonly KeyConditionExpression: string;
  readonly FilterExpression?: string;
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ExpressionAttributeValues?: Item;
  /** At most this many items a page, before the filter. */
  readonly Limit?: number;
  /** The previous page's LastEvaluatedKey. */
  readonly ExclusiveStartKey?: Item;
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

/** The keys of one table a BatchGetItem reads, and how. */
export interface KeysAndAttributes {
  readonly Keys: readonly Item[];
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ConsistentRead?: boolean;
}

export interface BatchGetInput {
  /** By table name. */
  readonly RequestItems: Readonly<Record<string, KeysAndAttributes>>;
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

/** One write of a BatchWriteItem. */
export type WriteRequest =
  | { readonly PutRequest: { readonly Item: Item } }
  | { readonly DeleteRequest: { readonly Key: Item } };

export interface BatchWriteInput {
  /** By table name. */
  readonly RequestItems: Readonly<Record<string, readonly WriteRequest[]>>;
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

export interface PutItemOutput {
  readonly ConsumedCapacity?: ConsumedCapacity;
}

export interface DeleteItemOutput {
  readonly ConsumedCapacity?: ConsumedCapacity;
}

export interface QueryOutput {
  readonly Items?: Item[];
  readonly Count?: number;
  /** Where the next page starts: absent on the last page. */
  readonly LastEvaluatedKey?: Item;
  readonly ConsumedCapacity?: ConsumedCapacity;
}

export interface BatchGetOutput {
  /** The items found, by table name. */
  readonly Responses?: Record<string, Item[]>;
  /** What DynamoDB did not read this time, as the input asked for it: the caller sends it again. */
  readonly UnprocessedKeys?: Record<string, KeysAndAttributes>;
  /** One entry per table. */
  readonly ConsumedCapacity?: ConsumedCapacity[];
}

export interface BatchWriteOutput {
  /** What DynamoDB did not write this time, as the input asked for it: the caller sends it again. */
  readonly UnprocessedItems?: Record<string, WriteRequest[]>;
  /** One entry per table. */
  readonly ConsumedCapacity?: ConsumedCapacity[];
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
  put(input: PutItemInput, options?: ItemCallOptions): Promise<PutItemOutput>;
  delete(input: DeleteItemInput, options?: ItemCallOptions): Promise<DeleteItemOutput>;
  /** One page: the caller follows LastEvaluatedKey. */
  query(input: QueryInput, options?: ItemCallOptions): Promise<QueryOutput>;
  /** Up to 100 keys; what is left unprocessed comes back, not as an error. */
  batchGet(input: BatchGetInput, options?: ItemCallOptions): Promise<BatchGetOutput>;
  /** Up to 25 writes; what is left unprocessed comes back, not as an error. */
  batchWrite(input: BatchWriteInput, options?: ItemCallOptions): Promise<BatchWriteOutput>;
}
