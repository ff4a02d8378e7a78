import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { callbackAppOf } from '../../../lib/callback/callbackPath';
import { NotFoundError } from '../../../lib/errors';

const event = (rawPath: string, pathParameters: Record<string, string> | null = null) =>
  ({ rawPath, pathParameters }) as unknown as APIGatewayProxyEventV2;

describe('callbackAppOf', () => {
  it("takes the HTTP API's path parameter", () => {
    expect(callbackAppOf(event('/callback/sales', { app: 'sales' }))).toBe('sales');
  });

  it("reads a function URL's raw path, which has no path parameters", () => {
    expect(callbackAppOf(event('/callback/default'))).toBe('default');
    expect(callbackAppOf(event('/callback/after-sales'))).toBe('after-sales');
    // Percent-encoded as it came, where the HTTP API would have decoded it.
    expect(callbackAppOf(event('/callback/%64efault'))).toBe('default');
  });

  it('finds no app on any other path', () => {
    for (const path of [
      '',
      '/',
      '/callback',
      '/callback/',
      '/callback/a/b',
      '/callback/a/',
      '//callback/a',
      '/v1/messages',
      // Segments that cannot be an app's name: never repeated back.
      '/callback/%ZZ',
      '/callback/Default',
      '/callback/-a',
      `/callback/${'a'.repeat(33)}`,
      '/callback/a%2Fb',
    ])
      expect(() => callbackAppOf(event(path)), path).toThrow(
        new NotFoundError('not found: callbacks are served at /callback/<app>'),
      );
  });
});
