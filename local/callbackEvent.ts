import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { CallbackRequest } from '../lib/callback/handleCallback';
import { LOCAL_PORTS } from './endpoints';

/** Where a push comes in: API Gateway's HTTP API, or the callback's Lambda function URL (`callbackFunctionUrl`). */
export type CallbackFrontDoor = 'httpApi' | 'functionUrl';

/**
 * A callback request shaped the way the front door hands it to the callback function, in payload format 2.0:
 * the raw query string WeChat signed and the parsed parameters. The HTTP API names the route and the path's app;
 * a function URL has no routes, so it gives `$default` and no path parameters (AWS, "Invoking Lambda function
 * URLs", request payload format).
 */
export function callbackHttpEvent(
  request: Omit<CallbackRequest, 'signal'>,
  options: { timeEpoch?: number; frontDoor?: CallbackFrontDoor } = {},
): APIGatewayProxyEventV2 {
  const query = Object.fromEntries(
    Object.entries(request.query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const viaUrl = options.frontDoor === 'functionUrl';
  const routeKey = viaUrl ? '$default' : `${request.method} /callback/{app}`;
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
    pathParameters: viaUrl ? null : { app: request.app },
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
