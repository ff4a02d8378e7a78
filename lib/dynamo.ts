import { AwsRequestError } from './aws/signedRequest';
import { DependencyError } from './errors';

const CONDITION_FAILED = 'ConditionalCheckFailedException';

/**
 * A conditional write DynamoDB refused: the SDK's error is named after the error type, our own signed requests
 * (lib/items/signedItemStore.ts) keep the type. By name, so the callback's bundle needs no SDK class to tell.
 */
export function isConditionFailure(error: unknown): boolean {
  return (
    (error as Error | undefined)?.name === CONDITION_FAILED ||
    (error instanceof AwsRequestError && error.errorType === CONDITION_FAILED)
  );
}

/** Runs a DynamoDB call; a failed condition comes back as `false`, anything else as a retryable DependencyError. */
export async function conditional(what: string, action: () => Promise<unknown>): Promise<boolean> {
  try {
    await action();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw new DependencyError(`${what} failed`, { cause: error });
  }
}

export async function dynamo<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw new DependencyError(`${what} failed`, { cause: error });
  }
}
