import type { ServerResponse } from 'node:http';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { s3Objects } from '../../../lib/aws/s3';
import { createSsmReader } from '../../../lib/config/ssmReader';
import { awsStandInForTheseTests, type ReceivedRequest } from '../../support/awsStandIn';

/**
 * AWS refuses a request whose X-Amz-Date is more than 15 minutes off its clock, and says its own time in the Date
 * header: S3 as 403 RequestTimeTooSkewed, the JSON services as 400 InvalidSignatureException "Signature expired".
 * The SDK corrects its clock from that header and tries again. Here the service's clock is 20 minutes ahead of the
 * function's.
 */
const SKEW_MS = 20 * 60_000;
/** How the stand-in refuses a request it finds too old: S3's way or the JSON protocol's. */
let refuse: (response: ServerResponse, headers: Record<string, string>) => void;
/** When the stand-in's clock says the same time as ours (a signature that is wrong for another reason). */
let serviceSkewMs = SKEW_MS;
let alwaysRefuse = false;

/** The stand-in's answer: refused when the request's X-Amz-Date is more than 15 minutes off its own clock. */
const byTheServiceClock = (response: ServerResponse, request: ReceivedRequest) => {
  const now = Date.now() + serviceSkewMs;
  const sent = String(request.headers['x-amz-date']).replace(
    /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
    '$1-$2-$3T$4:$5:$6Z',
  );
  const headers = { date: new Date(now).toUTCString() };
  if (alwaysRefuse || Math.abs(now - Date.parse(sent)) > 15 * 60_000) return refuse(response, headers);
  response
    .writeHead(200, { ...headers, 'content-type': 'application/x-amz-json-1.1' })
    .end(JSON.stringify({ Parameters: [{ Name: '/kf/prod/A', Value: 'a' }], InvalidParameters: [] }));
};
const s3TooSkewed = (response: ServerResponse, headers: Record<string, string>) =>
  response
    .writeHead(403, { ...headers, 'content-type': 'application/xml' })
    .end('<?xml version="1.0"?><Error><Code>RequestTimeTooSkewed</Code></Error>');
const signatureExpired = (response: ServerResponse, headers: Record<string, string>) =>
  response.writeHead(400, { ...headers, 'content-type': 'application/x-amz-json-1.1' }).end(
    JSON.stringify({
      __type: 'com.amazon.coral.service#InvalidSignatureException',
      message:
        'Signature expired: 20261130T170000Z is now earlier than 20261130T171000Z (20261130T172500Z - 15 min.)',
    }),
  );
const s3SignatureDoesNotMatch = (response: ServerResponse, headers: Record<string, string>) =>
  response
    .writeHead(403, { ...headers, 'content-type': 'application/xml' })
    .end('<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code></Error>');

const aws = awsStandInForTheseTests(byTheServiceClock);
beforeEach(() => {
  serviceSkewMs = SKEW_MS;
  alwaysRefuse = false;
  refuse = s3TooSkewed;
});
const credentials = async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' });
const objects = () =>
  s3Objects(() => ({ endpoint: aws.endpoint, region: 'eu-west-1', credentials, local: true }), {
    policy: { baseDelayMs: 5 },
  });
/** How a put of one object ended: 'put', or the error's message. */
const putOutcome = () =>
  objects()
    .putObject('mediabucket', 'k', 'x', 'text/plain')
    .then(
      () => 'put',
      (e: Error) => e.message,
    );

describe('a clock that is off', () => {
  it("the SDK's client puts the object after one correction (control: the stand-in refuses as S3 does)", async () => {
    const sdk = new S3Client({
      region: 'eu-west-1',
      endpoint: aws.endpoint.origin,
      forcePathStyle: true,
      credentials,
    });
    await sdk.send(new PutObjectCommand({ Bucket: 'mediabucket', Key: 'k', Body: 'x' }));
    sdk.destroy();
    expect(aws.received).toHaveLength(2);
  });

  it("kf-bridge's S3 client puts the object too, and signs the next call with the corrected clock", async () => {
    const client = objects();
    await expect(client.putObject('mediabucket', 'k', 'x', 'text/plain')).resolves.toBeUndefined();
    expect(aws.received).toHaveLength(2);

    aws.received = [];
    await client.putObject('mediabucket', 'k2', 'x', 'text/plain');
    expect(aws.received).toHaveLength(1);
  });

  it('corrects it from a JSON service\'s "Signature expired" (the SSM reader)', async () => {
    refuse = signatureExpired;
    const read = createSsmReader(() => ({ endpoint: aws.endpoint, region: 'eu-west-1', credentials }), {
      baseDelayMs: 5,
    });
    expect(await read(['/kf/prod/A'])).toEqual({ '/kf/prod/A': 'a' });
    expect(aws.received).toHaveLength(2);
  });

  it('corrects it once a call: a refusal that persists is not tried again and again', async () => {
    alwaysRefuse = true;
    expect(await putOutcome()).toBe('S3 PutObject: HTTP 403 RequestTimeTooSkewed');
    expect(aws.received).toHaveLength(2);
  });

  it('does not take a signature refused with the clocks agreeing for a clock that is off', async () => {
    serviceSkewMs = 0;
    alwaysRefuse = true;
    refuse = s3SignatureDoesNotMatch;
    expect(await putOutcome()).toBe('S3 PutObject: HTTP 403 SignatureDoesNotMatch');
    expect(aws.received).toHaveLength(1);
  });
});
