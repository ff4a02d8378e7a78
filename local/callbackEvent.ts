import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { CallbackRequest } from '../lib/callback/handleCallback';
import { LOCAL_PORTS } from './endpoints';

/**
 * A callback request shaped the way API Gateway's HTTP API (payload 2.0) hands it to the callback function:
 * the raw query string WeChat signed, the parsed parameters, the path's app.
 */
export function callbackHttpEvent(
  request: Omit<CallbackRequest, 'signal'>,
  options: { timeEpoch?: number } = {},
): APIGatewayProxyEventV2 {
  const query = Object.fromEntries(
    Object.entries(request.query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const routeKey = `${request.method} /callback/{app}`;
  const path = `/callback/${request.app}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: Object.entries(query)
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
      .join('&'),
    headers: { 'content-type': 'text/xml', host: `localhost:${LOCAL_PORTS.http.fallback}` },
    queryStringParameters: query,
    pathParameters: { app: request.app },
    requestContext: {
      http: {
        method: request.method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'Mozilla/4.0',
      },
      routeKey,
      stage: '$default',
      timeEpoch: options.timeEpoch ?? Date.now(),
    },
    body: request.body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}
