import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ContractError, KfBridgeError, PayloadTooLargeError } from '../errors';
import type { Log } from '../logger';

export const MAX_BODY_BYTES = 64 * 1024;

/** The raw body as text, refusing anything over the limit before it is decoded further. */
export function bodyOf(event: APIGatewayProxyEventV2, maxBytes = MAX_BODY_BYTES): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(`body is over ${maxBytes / 1024} KB`);
  return bytes.toString('utf8');
}

/**
 * Query parameters decoded from the raw query string. WeChat percent-encodes base64 (`%2B`), and a `+`
 * that arrives raw is still base64, never a space, so `+` is kept as is (unlike URLSearchParams).
 */
export function queryOf(event: APIGatewayProxyEventV2): Record<string, string> {
  if (event.rawQueryString === undefined) return { ...event.queryStringParameters } as Record<string, string>;
  const query: Record<string, string> = {};
  for (const pair of event.rawQueryString.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = at < 0 ? pair : pair.slice(0, at);
    const value = at < 0 ? '' : pair.slice(at + 1);
    try {
      query[decodeURIComponent(name)] = decodeURIComponent(value);
    } catch {
      // A malformed escape can only be a forged or broken request; leaving it out fails the signature check.
    }
  }
  return query;
}

export function textResponse(status: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

export function jsonResponse(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}

/**
 * The answer to a failed request: plain text for WeChat's callbacks, `{error, errcode?, issues?}` for the JSON
 * API. Client errors and the platform's refusals are answered with their message (logged with the message
 * only); anything unexpected is a 500 (503 when retryable) that reveals nothing.
 */
export function errorResponse(
  error: unknown,
  log: Log,
  format: 'text' | 'json' = 'text',
): APIGatewayProxyStructuredResultV2 {
  const answer = (status: number, message: string, known?: KfBridgeError) => {
    if (format === 'text') return textResponse(status, message);
    const issues = known instanceof ContractError ? known.issues : [];
    return jsonResponse(status, {
      error: message,
      ...(known?.errcode !== undefined && { errcode: known.errcode }),
      ...(issues.length > 0 && { issues }),
    });
  };
  if (error instanceof KfBridgeError && error.expose) {
    const fields = { status: error.status, reason: error.message };
    if (error.status < 500) log.warn('request refused', fields);
    else log.error('request refused', fields);
    return answer(error.status, error.message, error);
  }
  log.error('request failed', { error });
  const retryable = (error instanceof KfBridgeError && error.retryable) || isMiddyEarlyTimeout(error);
  return answer(retryable ? 503 : 500, retryable ? 'temporarily unavailable' : 'internal error');
}

/** Maps the error hierarchy to answers, once for every HTTP function (see errorResponse). */
export function httpErrors(
  log: Log,
  format: 'text' | 'json' = 'text',
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      request.response = errorResponse(request.error, log, format);
    },
  };
}

/** middy's early timeout: the time ran out on this try, not the request. Other timeouts are wrapped where they occur. */
function isMiddyEarlyTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'TimeoutError' &&
    (error.cause as { package?: string } | undefined)?.package === '@middy/core'
  );
}
