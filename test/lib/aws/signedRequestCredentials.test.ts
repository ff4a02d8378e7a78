import { describe, expect, it } from 'vitest';
import {
  AwsRequestError,
  type RetryPolicy,
  signedRequests,
  type TryEnd,
  xmlErrorCodeOf,
} from '../../../lib/aws/signedRequest';
import { createSsmReader } from '../../../lib/config/ssmReader';
import { DependencyError } from '../../../lib/errors';
import { awsStandInForTheseTests } from '../../support/awsStandIn';

/**
 * Signing waits for the credential chain, which on Lambda reads the environment and elsewhere may ask a container
 * or instance metadata endpoint that never answers: the call's timeouts bound that wait too, and a chain that fails
 * is a short error naming the call.
 */

const aws = awsStandInForTheseTests();

const policy: RetryPolicy = { attempts: 3, baseDelayMs: 5, attemptTimeoutMs: 300, callTimeoutMs: 1_000 };
const core = (
  credentials: () => Promise<{ accessKeyId: string; secretAccessKey: string }>,
  seen: string[] = [],
) =>
  signedRequests({
    service: 'example',
    name: 'Example',
    target: () => ({ endpoint: aws.endpoint, region: 'eu-west-1', credentials }),
    errorOf: xmlErrorCodeOf,
    observe: ({ operation }) => {
      seen.push(operation);
      return (ended: TryEnd) => seen.push(`ended ${JSON.stringify(ended)}`);
    },
  });
const request = () => ({ operation: 'GetThing', method: 'GET', url: new URL('/thing', aws.endpoint) });
const never = () => new Promise<never>(() => {});
/** The outcome, or that there was none after 3 s. */
const within3s = (outcome: Promise<unknown>) =>
  Promise.race([
    outcome.then(
      () => 'answered',
      (e: unknown) => e,
    ),
    new Promise((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3_000)),
  ]);

describe('credentials a call cannot get', () => {
  it('bound a call whose credentials never come (a metadata endpoint that does not answer) by callTimeoutMs', async () => {
    const started = Date.now();
    const outcome = await within3s(core(never).send(request(), policy));
    expect(outcome).toBeInstanceOf(AwsRequestError);
    expect(Date.now() - started).toBeLessThan(1_500);
    // Each try waited its own 300 ms, and was tried again, as a try without an answer is.
    expect((outcome as Error).message).toMatch(/^Example GetThing: .*credentials unavailable within 300 ms/);
    expect(aws.received).toHaveLength(0);
  });

  it("bound the SSM reader's read when credentials never come", async () => {
    const read = createSsmReader(
      () => ({ endpoint: aws.endpoint, region: 'eu-west-1', credentials: never }),
      {
        readTimeoutMs: 500,
      },
    );
    const outcome = await within3s(read(['/kf/prod/A']));
    expect(outcome).toBeInstanceOf(DependencyError);
    expect(String(outcome)).toMatch(/not read within 500 ms/);
  });

  it('that fail are a short DependencyError naming the call, not tried again, and told to the observer as unsent', async () => {
    const seen: string[] = [];
    const failing = async () => {
      throw new Error('Could not load credentials from any providers');
    };
    const error = await core(failing, seen)
      .send(request(), policy)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ message: 'Example GetThing: credentials unavailable', retryable: true });
    expect((error as Error).cause).toMatchObject({
      message: 'Could not load credentials from any providers',
    });
    expect(seen).toEqual(['GetThing', 'ended {"unsent":"credentials unavailable"}']);
    expect(aws.received).toHaveLength(0);
  });
});
