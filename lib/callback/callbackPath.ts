import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { NotFoundError } from '../errors';

const CALLBACK_PATH = /^\/callback\/([^/]+)$/;

/**
 * The app a callback request is for. The HTTP API routes only `/callback/{app}` to the callback and names the
 * app as a path parameter; a Lambda function URL hands over every path as it came (`pathParameters` null), so
 * the app is read from the raw path, and any other path is not found.
 */
export function callbackAppOf(event: APIGatewayProxyEventV2): string {
  const app = event.pathParameters?.app ?? CALLBACK_PATH.exec(event.rawPath ?? '')?.[1];
  if (app === undefined) throw new NotFoundError('not found: callbacks are served at /callback/<app>');
  return app;
}
