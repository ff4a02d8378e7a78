import { describe, expect, it } from 'vitest';
import { awsClientConfig } from '../../../lib/aws/clientConfig';
import { ConfigError } from '../../../lib/errors';

describe('awsClientConfig', () => {
  it('leaves the SDK defaults alone when no local endpoints are set, as in AWS', () => {
    expect(awsClientConfig('sqs', {})).toEqual({});
    expect(awsClientConfig('sqs', { KF_BRIDGE_LOCAL_ENDPOINTS: '' })).toEqual({});
  });

  it('points a client at its local endpoint with throwaway credentials', () => {
    const env = {
      KF_BRIDGE_LOCAL_ENDPOINTS:
        'sqs=http://127.0.0.1:4566, s3=http://127.0.0.1:4566,dynamodb=http://127.0.0.1:8000',
    };
    expect(awsClientConfig('dynamodb', env)).toEqual({
      endpoint: 'http://127.0.0.1:8000',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    expect(awsClientConfig('s3', env)).toMatchObject({
      endpoint: 'http://127.0.0.1:4566',
      forcePathStyle: true,
    });
    expect(awsClientConfig('ssm', env)).toEqual({});
  });

  it('names the setting when it is malformed', () => {
    expect(() => awsClientConfig('sqs', { KF_BRIDGE_LOCAL_ENDPOINTS: 'sqs:4566' })).toThrow(
      new ConfigError("KF_BRIDGE_LOCAL_ENDPOINTS: 'sqs:4566' is not service=http(s)-URL"),
    );
  });
});
