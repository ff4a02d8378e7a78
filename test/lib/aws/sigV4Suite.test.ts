import { describe, expect, it } from 'vitest';
import { type RequestToSign, sigV4Signer } from '../../../lib/aws/sigV4';

/**
 * Our signer against AWS's own published answers, not against another signer: cases of the Signature Version 4
 * test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, credentials AKIDEXAMPLE, service
 * `service`, 2015-08-30T12:36:00Z, no payload-hash header) and S3's GET-object example of its SigV4 documentation.
 */

const suite = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const suiteAt = new Date('2015-08-30T12:36:00Z');
const host = 'example.amazonaws.com';
const token =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';

const cases: (Partial<RequestToSign> & {
  name: string;
  signed: string;
  signature: string;
  sessionToken?: string;
})[] = [
  {
    name: 'get-vanilla',
    signed: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    signed: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    query: { Param2: 'value2', Param1: 'value1' },
    signed: 'host;x-amz-date',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-unreserved',
    query: {
      '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz':
        '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    },
    signed: 'host;x-amz-date',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-vanilla-utf8-query',
    query: { ሴ: 'bar' },
    signed: 'host;x-amz-date',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {
    name: 'post-vanilla-query-nonunreserved',
    method: 'POST',
    query: { '@#$%^': '', '+': '/,?><`";:\\|][{}' },
    signed: 'host;x-amz-date',
    signature: '66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e',
  },
  {
    name: 'get-unreserved',
    path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signed: 'host;x-amz-date',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  {
    name: 'get-utf8',
    path: '/ሴ',
    signed: 'host;x-amz-date',
    signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85',
  },
  {
    name: 'get-relative-unnormalized (normalize-path)',
    path: '/example/..',
    signed: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-header-value-trim',
    headers: { 'My-Header1': ' value1', 'My-Header2': '"a   b   c"' },
    signed: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'post-header-value-case',
    method: 'POST',
    headers: { 'My-Header1': 'VALUE1' },
    signed: 'host;my-header1;x-amz-date',
    signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'get-header-key-duplicate',
    headers: { 'My-Header1': 'value2,value2,value1' },
    signed: 'host;my-header1;x-amz-date',
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    signed: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'post-x-www-form-urlencoded-parameters',
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf8' },
    body: new TextEncoder().encode('Param1=value1'),
    signed: 'content-type;host;x-amz-date',
    signature: '1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe',
  },
  {
    name: 'post-sts-header-before (session token)',
    method: 'POST',
    sessionToken: token,
    signed: 'host;x-amz-date;x-amz-security-token',
    signature: '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
  },
];

describe('our SigV4 signer against the SigV4 test suite', () => {
  for (const { name, signed, signature, sessionToken, ...request } of cases)
    it(name, async () => {
      const sign = sigV4Signer({
        service: 'service',
        region: 'us-east-1',
        credentials: async () => ({ ...suite, ...(sessionToken && { sessionToken }) }),
        applyChecksum: false,
      });
      const headers = await sign(
        {
          method: request.method ?? 'GET',
          path: request.path ?? '/',
          query: request.query ?? {},
          headers: { Host: host, ...request.headers },
          ...(request.body !== undefined && { body: request.body }),
        },
        suiteAt,
      );
      expect(headers.authorization).toBe(
        `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signed}, Signature=${signature}`,
      );
      expect(headers['x-amz-date']).toBe('20150830T123600Z');
    });

  it("signs S3's GET-object example, its path unescaped and its payload hash sent", async () => {
    const sign = sigV4Signer({
      service: 's3',
      region: 'us-east-1',
      credentials: async () => ({
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      }),
      uriEscapePath: false,
    });
    const headers = await sign(
      {
        method: 'GET',
        path: '/test.txt',
        query: {},
        headers: { Host: 'examplebucket.s3.amazonaws.com', Range: 'bytes=0-9' },
      },
      new Date('2013-05-24T00:00:00Z'),
    );
    expect(headers['x-amz-content-sha256']).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });
});
