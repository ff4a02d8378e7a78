import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { type RequestToSign, sigV4Signer } from '../../../lib/aws/sigV4';

/**
 * Our signer against the SDK clients' own (@smithy/signature-v4), which AWS accepts: the same request signed at
 * the same time gets the same headers, the signature included, whatever its path, query, headers and body.
 */

const at = new Date('2026-11-30T20:15:07.123Z');
const keys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const withToken = { ...keys, sessionToken: 'IQoJb3JpZ2luX2VjE+token/with=odd chars' };

const requests: (RequestToSign & { readonly name: string })[] = [
  {
    name: 'a DynamoDB call',
    method: 'POST',
    path: '/',
    query: {},
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.GetItem',
      host: 'dynamodb.eu-west-1.amazonaws.com',
    },
    body: '{"TableName":"t","Key":{"pk":{"S":"x é 😀"}}}',
  },
  {
    name: 'an S3 key with escapes, dot segments and a repeated query parameter',
    method: 'GET',
    path: '/bucket/a%20b/./c/../d%2Fe/%C3%A9/',
    query: { 'list-type': '2', prefix: "a b!'()*~", tag: ['z', 'a', 'm'], empty: [], 'X-Amz-Signature': 'x' },
    headers: { host: 'bucket.s3.amazonaws.com:8443' },
  },
  {
    name: 'headers of any case, some never signed, some the signer writes itself',
    method: 'PUT',
    path: '/x',
    query: { 'a=b': 'c&d', Z: '' },
    headers: {
      Host: 'example.com',
      'Content-Type': ' text/plain ;\r\n  charset=utf-8 ',
      'User-Agent': 'kf-bridge',
      'X-Amzn-Trace-Id': 'Root=1',
      'proxy-authorization': 'secret',
      'sec-fetch-mode': 'cors',
      Authorization: 'old',
      'X-Amz-Date': '20000101T000000Z',
      date: 'Mon, 01 Jan 2000 00:00:00 GMT',
      'x-amz-meta-note': 'a\tb   c',
    },
    body: new Uint8Array([0, 1, 2, 255]),
  },
  {
    name: 'a payload hash the caller states',
    method: 'PUT',
    path: '/k',
    query: {},
    headers: { host: 'example.com', 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
    body: 'ignored',
  },
];

describe('our SigV4 signer', () => {
  for (const request of requests)
    for (const credentials of [keys, withToken])
      for (const signing of [{}, { uriEscapePath: false, applyChecksum: true }, { applyChecksum: false }])
        it(`signs ${request.name} as the SDK does (${credentials === keys ? 'keys' : 'session'}, ${JSON.stringify(signing)})`, async () => {
          const options = {
            service: 's3',
            region: 'eu-west-1',
            credentials: async () => credentials,
            ...signing,
          };
          const ours = await sigV4Signer(options)(request, at);
          const theirs = await new SignatureV4({ ...options, sha256: Sha256 }).sign(
            {
              method: request.method,
              protocol: 'https:',
              hostname: 'example.com',
              path: request.path,
              query: request.query as Record<string, string | string[]>,
              headers: { ...request.headers },
              ...(request.body !== undefined && { body: request.body }),
            },
            { signingDate: at },
          );
          expect(ours).toEqual(theirs.headers);
        });

  it('signs again with the key of another day or another secret', async () => {
    let credentials = keys;
    const sign = sigV4Signer({ service: 'ssm', region: 'us-east-1', credentials: async () => credentials });
    const smithy = () =>
      new SignatureV4({
        service: 'ssm',
        region: 'us-east-1',
        credentials: async () => credentials,
        sha256: Sha256,
      });
    const request = {
      method: 'POST',
      path: '/',
      query: {},
      headers: { host: 'ssm.us-east-1.amazonaws.com' },
      body: '{}',
    };
    for (const date of [at, new Date('2026-12-01T00:00:01Z')])
      for (const secret of ['one', 'two']) {
        credentials = { ...keys, secretAccessKey: secret };
        const theirs = await smithy().sign(
          { ...request, protocol: 'https:', hostname: 'x', headers: { ...request.headers } },
          { signingDate: date },
        );
        expect(await sign(request, date)).toEqual(theirs.headers);
      }
  });

  it('refuses credentials without keys, as the SDK does', async () => {
    const sign = sigV4Signer({
      service: 'ssm',
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'a' }) as never,
    });
    await expect(sign({ method: 'GET', path: '/', query: {}, headers: { host: 'h' } }, at)).rejects.toThrow(
      'Resolved credential object is not valid',
    );
  });
});
