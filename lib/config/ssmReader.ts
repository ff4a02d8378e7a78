import {
  type AwsCredentials,
  AwsRequestError,
  jsonErrorOf,
  type RetryPolicy,
  type ServiceTarget,
  serviceTarget,
  signedRequests,
} from '../aws/signedRequest';
import { ConfigError, DependencyError } from '../errors';

export type { AwsCredentials };

/**
 * The named SSM parameters that exist, decrypted, by the full name asked for; a name SSM does not know is an
 * unset setting and is left out.
 */
export type ReadParameters = (names: readonly string[]) => Promise<Record<string, string>>;

/** Where SSM answers, and who asks it. */
export type SsmTarget = ServiceTarget;

export interface SsmReaderLimits {
  /** Tries of one call, the first included; Infinity tries until the read's deadline. */
  readonly attempts: number;
  /** The backoff before try n+1 is random within baseDelayMs × 2^(n-1). */
  readonly baseDelayMs: number;
  /** The base instead after SSM throttled the try. */
  readonly throttledBaseDelayMs: number;
  /** One try that takes longer is abandoned and tried again. */
  readonly attemptTimeoutMs: number;
  /** The whole read, every call and try included. */
  readonly readTimeoutMs: number;
}

/**
 * A read runs while a cold start's first invocation waits, and a config module reads twice (the default app, then
 * the others): two reads stay below the callback's 5 s timeout. SSM answers GetParameters in tens of milliseconds,
 * and throttles an account's GetParameters at 40 a second by default: a burst of cold starts (a push storm scaling
 * the callback out) is served over a few seconds, so a read keeps trying as long as its deadline allows, backing
 * off after throttling as the SDK does (its base: 500 ms, full jitter), rather than give up after 3 tries.
 */
const LIMITS: SsmReaderLimits = {
  attempts: Number.POSITIVE_INFINITY,
  baseDelayMs: 100,
  throttledBaseDelayMs: 500,
  attemptTimeoutMs: 1_000,
  readTimeoutMs: 2_000,
};

/** SSM's GetParameters takes at most 10 names a call. */
const NAMES_PER_CALL = 10;

/**
 * The SSM this process reads: on deployed stages the region's endpoint with the function role's credentials, on
 * the local stage the endpoint `KF_BRIDGE_LOCAL_ENDPOINTS` names (see serviceTarget).
 */
export function ssmTarget(env: NodeJS.ProcessEnv): SsmTarget {
  if (!env.AWS_REGION?.trim()) throw new ConfigError('AWS_REGION is not set: SSM cannot be read');
  return serviceTarget('ssm', env);
}

/**
 * SSM's GetParameters over HTTPS, signed with SigV4 (AWS JSON 1.1 protocol): what the settings of a cold start
 * need, without the SSM SDK client in every bundle. `target` is looked up at the first read, so a stage that
 * never reads SSM (local) needs no region.
 */
export function createSsmReader(
  target: () => SsmTarget,
  limits: Partial<SsmReaderLimits> = {},
): ReadParameters {
  const settings = { ...LIMITS, ...limits };
  const ssm = signedRequests({
    service: 'ssm',
    name: 'SSM',
    target,
    errorOf: jsonErrorOf,
  });
  const policy: RetryPolicy = {
    attempts: settings.attempts,
    baseDelayMs: settings.baseDelayMs,
    throttledBaseDelayMs: settings.throttledBaseDelayMs,
    attemptTimeoutMs: settings.attemptTimeoutMs,
    callTimeoutMs: settings.readTimeoutMs,
  };
  return async (names) => {
    if (names.length === 0) return {};
    const { endpoint } = ssm.target();
    // The read, not each call, is bounded: its calls share one deadline.
    const deadline = AbortSignal.timeout(settings.readTimeoutMs);
    const endsAt = Date.now() + settings.readTimeoutMs;
    const found: Record<string, string> = {};
    try {
      for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
        const batch = names.slice(i, i + NAMES_PER_CALL);
        const body = JSON.stringify({ Names: batch, WithDecryption: true });
        const answer = await ssm.send(
          {
            operation: 'GetParameters',
            method: 'POST',
            url: new URL('/', endpoint),
            headers: {
              'content-type': 'application/x-amz-json-1.1',
              'x-amz-target': 'AmazonSSM.GetParameters',
            },
            body,
            input: { Names: batch },
          },
          policy,
          deadline,
        );
        const values = valuesOf(new TextDecoder().decode(answer.body));
        if (!values)
          throw new DependencyError(
            `SSM GetParameters: HTTP ${answer.status} with a body that is not a GetParameters answer`,
          );
        Object.assign(found, values);
      }
    } catch (error) {
      // A call's own timeout (as long as the read's, and started later) may be the first to see the read's end.
      if (deadline.aborted || Date.now() >= endsAt) {
        // What SSM last said, if anything, is told.
        const refusal = error instanceof AwsRequestError ? error.refusal : undefined;
        const last = refusal
          ? ` (the last try: HTTP ${refusal.status} ${refusal.type ?? 'with no error type'})`
          : '';
        throw new DependencyError(`SSM GetParameters: not read within ${settings.readTimeoutMs} ms${last}`, {
          cause: error,
        });
      }
      throw error;
    }
    return found;
  };
}

/** The values of a GetParameters answer, or undefined for a body that is not one (never quoted: it holds secrets). */
function valuesOf(text: string): Record<string, string> | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parameters = (answer as { Parameters?: unknown } | null)?.Parameters ?? [];
  if (!Array.isArray(parameters)) return undefined;
  const values: Record<string, string> = {};
  for (const parameter of parameters as { Name?: unknown; Value?: unknown }[]) {
    if (typeof parameter?.Name !== 'string' || typeof parameter.Value !== 'string') return undefined;
    values[parameter.Name] = parameter.Value;
  }
  return values;
}
