import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3Objects, s3ObjectsFor } from '../../lib/aws/s3';
import { AwsRequestError } from '../../lib/aws/signedRequest';
import { localStack, s3Client } from '../support/aws';
import { type MotoServer, startMotoServer } from '../support/moto';
import { describeWithPythonTools } from '../support/pythonTools';

/** Keys whose bytes a path can get wrong: spaces, unicode, `+`, `%`, reserved characters, empty segments. */
const AWKWARD_KEYS = [
  'inbound/2024-05-01/a b.png',
  'médias/中文 文件(1).jpg',
  'plus+sign/100%/done.bin',
  "quotes'!*~/semi;colon=&$@,",
  'deep//double/slash',
  'not/%2e/a/dot/%2E%2e',
];

/**
 * Puts binary content under every awkward key with kf-bridge's client, reads it back with it, and checks with
 * the SDK's own client that each object is stored under exactly that key.
 */
function roundTrips(server: () => { objects: S3Objects; sdk: S3Client; bucket: string }) {
  it('puts and gets binary content under awkward keys, stored under exactly those keys', async () => {
    const { objects, sdk, bucket } = server();
    const prefix = `s3-objects-${Date.now()}/`;
    const bodies = new Map(AWKWARD_KEYS.map((key) => [`${prefix}${key}`, randomBytes(1500)]));
    for (const [key, body] of bodies) await objects.putObject(bucket, key, body, 'application/octet-stream');

    for (const [key, body] of bodies) {
      const read = await objects.getObject(bucket, key, { maxBytes: body.length });
      expect(read, key).toEqual({ data: body, contentType: 'application/octet-stream' });
      const independent = await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(Buffer.from((await independent.Body?.transformToByteArray()) ?? []).equals(body), key).toBe(
        true,
      );
    }
    const listed = await sdk.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual([...bodies.keys()].sort());
  });

  it('refuses an object over maxBytes, and names a missing one NoSuchKey', async () => {
    const { objects, bucket } = server();
    const key = `s3-objects-${Date.now()}/big.bin`;
    await objects.putObject(bucket, key, randomBytes(4096), 'application/octet-stream');
    expect(await objects.getObject(bucket, key, { maxBytes: 4095 })).toEqual({ tooLarge: true });

    const error = await objects
      .getObject(bucket, `${key}.missing`, { maxBytes: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect(error).toMatchObject({ errorType: 'NoSuchKey', httpStatus: 404 });
  });
}

describe("kf-bridge's S3 client against the local stack (fauxqs)", () => {
  roundTrips(() => ({ objects: s3ObjectsFor(localStack().env), sdk: s3Client(), bucket: 'mediabucket' }));
});

describeWithPythonTools("kf-bridge's S3 client against S3 (moto)", () => {
  const REGION = 'ap-southeast-1';
  const bucket = 'kf-bridge-moto-media';
  let moto: MotoServer;
  let sdk: S3Client;
  beforeAll(async () => {
    moto = await startMotoServer(REGION);
    sdk = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await sdk.send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
  }, 60_000);
  afterAll(async () => {
    sdk?.destroy();
    await moto?.stop();
  });

  roundTrips(() => ({
    objects: s3ObjectsFor({ AWS_REGION: REGION, KF_BRIDGE_LOCAL_ENDPOINTS: `s3=${moto.endpoint}` }),
    sdk,
    bucket,
  }));
});
