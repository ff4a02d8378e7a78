import { describe, expect, it } from 'vitest';
import { type RetryPolicy, signedRequests, xmlErrorCodeOf } from '../../../lib/aws/signedRequest';
import { KfBridgeError } from '../../../lib/errors';
import { awsStandInForTheseTests, type ReceivedRequest } from '../../support/awsStandIn';
import { expectedSignature } from '../../support/sigv4';

const aws = awsStandInForTheseTests();

const SECRET = 'secret';
const policy: RetryPolicy = { attempts: 3, baseDelayMs: 5, attemptTimeoutMs: 300, callTimeoutMs: 1_000 };
const core = () =>
  signedRequests({
    service: 'example',
    name: 'Example',
    target: () => ({
      endpoint: aws.endpoint,
      region: 'eu-west-1',
      credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: SECRET }),
    }),
    errorOf: xmlErrorCodeOf,
  });

const send = (path: string) =>
  core().send({ operation: 'ListThings', method: 'GET', url: new URL(path, aws.endpoint) }, policy);

describe('a signed query', () => {
  it('of single parameters is signed as sent (control for the reckoning here)', async () => {
    await send('/things?tag=a%20b&x=1');
    const [request] = aws.received as [ReceivedRequest];
    expect(String(request.headers.authorization)).toContain(
      `Signature=${expectedSignature(request, SECRET)}`,
    );
  });

  it('is signed as sent when a parameter repeats (SigV4: every parameter, sorted by name then value)', async () => {
    await send('/things?tag=b&tag=a&flag&x=%2F');
    const [request] = aws.received as [ReceivedRequest];
    expect(request.path).toBe('/things?tag=b&tag=a&flag&x=%2F');
    expect(String(request.headers.authorization)).toContain(
      `Signature=${expectedSignature(request, SECRET)}`,
    );
  });

  it("is refused, sending nothing, with a '+' whose meaning (plus or space) the service may read otherwise", async () => {
    const error = await send('/things?q=a+b').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KfBridgeError);
    expect((error as Error).message).toBe(
      "Example ListThings: the query parameter 'q' cannot be signed as sent",
    );
    expect(aws.received).toHaveLength(0);
  });
});
