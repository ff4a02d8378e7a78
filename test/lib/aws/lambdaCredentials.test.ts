import { describe, expect, it } from 'vitest';
import { lambdaCredentials } from '../../../lib/aws/lambdaCredentials';
import { serviceTarget } from '../../../lib/aws/signedRequest';
import { ConfigError } from '../../../lib/errors';

const LAMBDA_ENV = {
  AWS_REGION: 'ap-east-1',
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEKEY',
  AWS_SECRET_ACCESS_KEY: 'secret-never-quoted',
  AWS_SESSION_TOKEN: 'session-token',
};

describe("kf-bridge's own AWS calls on a deployed stage", () => {
  it("sign with the role's credentials Lambda puts in the environment, read at each call", async () => {
    const env: NodeJS.ProcessEnv = { ...LAMBDA_ENV };
    const { credentials, local } = serviceTarget('sqs', env);
    expect(local).toBeUndefined();
    expect(await credentials()).toEqual({
      accessKeyId: 'ASIAEXAMPLEKEY',
      secretAccessKey: 'secret-never-quoted',
      sessionToken: 'session-token',
    });
    env.AWS_SESSION_TOKEN = 'renewed';
    expect((await credentials()).sessionToken).toBe('renewed');
  });

  it('take long-term keys without a session token', async () => {
    const { AWS_SESSION_TOKEN: _, ...keys } = LAMBDA_ENV;
    expect(await lambdaCredentials(keys)()).toEqual({
      accessKeyId: 'ASIAEXAMPLEKEY',
      secretAccessKey: 'secret-never-quoted',
    });
  });

  it('fail with a short error naming what is missing, and no secret, when the environment has none', async () => {
    const error = await lambdaCredentials({
      AWS_SECRET_ACCESS_KEY: 'secret-never-quoted',
      AWS_ACCESS_KEY_ID: ' ',
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^AWS_ACCESS_KEY_ID not set: /);
    expect((error as Error).message).not.toContain('secret-never-quoted');
    await expect(lambdaCredentials({})()).rejects.toThrow(
      /^AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set/,
    );
  });
});
