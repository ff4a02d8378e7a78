import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ContractError, KfBridgeError } from '../errors';
import type { Log } from '../logger';

export function jsonResponse(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

/** The JSON API's one error mapping: `{error, issues?}` for client errors, nothing internal otherwise. */
export function jsonErrors(
  log: Log,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof KfBridgeError && error.status < 500) {
        log.warn('request refused', { status: error.status, reason: error.message });
        request.response = jsonResponse(error.status, {
          error: error.message,
          ...(error instanceof ContractError && error.issues.length > 0 && { issues: error.issues }),
        });
        return;
      }
      log.error('request failed', { error });
      const retryable = error instanceof KfBridgeError && error.retryable;
      request.response = jsonResponse(retryable ? 503 : 500, {
        error: retryable ? 'temporarily unavailable' : 'internal error',
      });
    },
  };
}
