import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DependencyError } from './errors';

export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === 'ConditionalCheckFailedException'
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
