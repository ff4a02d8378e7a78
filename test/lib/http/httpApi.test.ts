import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { BadRequestError, ContractError, DependencyError, PayloadTooLargeError } from '../../../lib/errors';
import { bodyOf, httpErrors, queryOf } from '../../../lib/http/httpApi';
import { recordingLog } from '../../support/recording';

const event = (fields: Partial<APIGatewayProxyEventV2>) => fields as APIGatewayProxyEventV2;

describe('queryOf', () => {
  it('decodes percent-escapes and keeps a raw + as base64, not a space', () => {
    expect(queryOf(event({ rawQueryString: 'echostr=a%2Bb%2F%3D+c&nonce=1&flag' }))).toEqual({
      echostr: 'a+b/=+c',
      nonce: '1',
      flag: '',
    });
  });

  it('leaves out a parameter with a malformed escape', () => {
    expect(queryOf(event({ rawQueryString: 'a=%E0%A4%A&b=2' }))).toEqual({ b: '2' });
  });
});

describe('bodyOf', () => {
  it('decodes base64 bodies and refuses anything over 64 KB with 413', () => {
    expect(bodyOf(event({ body: Buffer.from('<xml/>').toString('base64'), isBase64Encoded: true }))).toBe(
      '<xml/>',
    );
    expect(bodyOf(event({ body: 'x'.repeat(64 * 1024) }))).toHaveLength(64 * 1024);
    expect(() => bodyOf(event({ body: 'x'.repeat(64 * 1024 + 1) }))).toThrow(PayloadTooLargeError);
  });
});

describe('httpErrors', () => {
  const answer = async (error: unknown) => {
    const { log, lines } = recordingLog();
    const request = { error, response: undefined } as never as { error: unknown; response: unknown };
    await httpErrors(log).onError?.(request as never);
    return { response: request.response, lines };
  };

  it('answers client errors with their short message as plain text', async () => {
    const { response } = await answer(new BadRequestError('callback body is malformed'));
    expect(response).toEqual({
      statusCode: 400,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'callback body is malformed',
    });
  });

  it('hides internals: 503 for retryable failures, 500 otherwise', async () => {
    expect((await answer(new DependencyError('could not enqueue'))).response).toMatchObject({
      statusCode: 503,
      body: 'temporarily unavailable',
    });
    const { response, lines } = await answer(new TypeError('x is undefined at /var/task/index.js'));
    expect(response).toMatchObject({ statusCode: 500, body: 'internal error' });
    expect(lines[0]?.level).toBe('error');
  });

  it('answers 503 when the function runs out of time, so the caller tries again', async () => {
    const { log } = recordingLog();
    // As the HTTP functions run: middy ends the invocation early, before Lambda's own timeout would.
    const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
      timeoutEarlyInMillis: 500,
    })
      .use(httpErrors(log, 'json'))
      .handler(() => new Promise(() => {}));
    const response = await handler(event({}), { getRemainingTimeInMillis: () => 550 } as Context);
    expect(response).toEqual({
      statusCode: 503,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ error: 'temporarily unavailable' }),
    });
    // Only middy's: another error that happens to be named so is not taken for a retryable one.
    const other = Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    expect((await answer(other)).response).toMatchObject({ statusCode: 500 });
  });
});

describe('httpErrors for the JSON API', () => {
  it('answers {error, issues} with the field-level issues of a contract error', async () => {
    const { log } = recordingLog();
    const request = {
      error: new ContractError('outbound request: message.content: empty', {
        issues: [{ path: 'message.content', message: 'empty' }],
      }),
      response: undefined,
    };
    await httpErrors(log, 'json').onError?.(request as never);
    expect(request.response).toEqual({
      statusCode: 400,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({
        error: 'outbound request: message.content: empty',
        issues: [{ path: 'message.content', message: 'empty' }],
      }),
    });
  });
});
