import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { APP_NAME } from '../config/config';
import { NotFoundError } from '../errors';

const CALLBACK_PATH = /^\/callback\/([^/]+)$/;

/**
 * The app a callback request is for. The HTTP API routes only `/callback/{app}` to the callback and names the
 * app, decoded, as a path parameter. A Lambda function URL hands over every path as it came, still
 * percent-encoded, with no path parameters; so the app is read from the raw path and decoded the same way, and
 * any other path, or a segment that cannot be an app's name, is not found without being repeated back.
 */
export function callbackAppOf(event: APIGatewayProxyEventV2): string {
  if (event.pathParameters?.app !== undefined) return event.pathParameters.app;
  const app = decoded(CALLBACK_PATH.exec(event.rawPath ?? '')?.[1]);
  if (app === undefined || !APP_NAME.test(app))
    throw new NotFoundError('not found: callbacks are served at /callback/<app>');
  return app;
}

function decoded(segment: string | undefined): string | undefined {
  try {
    return segment === undefined ? undefined : decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
