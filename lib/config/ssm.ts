import { GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../errors';
import type { Env } from './config';

/**
 * Deployed stages keep their settings in SSM Parameter Store (SecureString) under one prefix, e.g.
 * `/kf-bridge/prod/WECOM_KF_SECRET`, so no secret sits in the template or in an environment literal.
 * A setting already present in the environment wins, which keeps overrides possible.
 */
export async function withSsmParameters(env: Env, ssm: SSMClient, prefix: string): Promise<Env> {
  const path = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const fromSsm: Record<string, string> = {};
  let nextToken: string | undefined;
  try {
    do {
      const page = await ssm.send(
        new GetParametersByPathCommand({ Path: path, WithDecryption: true, NextToken: nextToken }),
      );
      for (const parameter of page.Parameters ?? []) {
        if (parameter.Name && parameter.Value !== undefined)
          fromSsm[parameter.Name.slice(path.length)] = parameter.Value;
      }
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    throw new ConfigError(`could not read settings from SSM under ${path}`, { cause: error });
  }
  const merged: Record<string, string | undefined> = { ...fromSsm };
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value.trim() !== '') merged[name] = value;
  return merged;
}
