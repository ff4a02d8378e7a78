import { setTimeout as sleep } from 'node:timers/promises';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { awsClientConfig } from '../aws';
import { ConfigError, DependencyError } from '../errors';

/**
 * The named SSM parameters that exist, decrypted, by the full name asked for; a name SSM does not know is an
 * unset setting and is left out.
 */
export type ReadParameters = (names: readonly string[]) => Promise<Record<string, string>>;

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** Where SSM answers, and who asks it. */
export interface SsmTarget {
  readonly endpoint: URL;
  readonly region: string;
  /** Asked before each request; the default chain caches them and refreshes them before they expire. */
  readonly credentials: () => Promise<AwsCredentials>;
}

export interface SsmReaderLimits {
  /** Tries of one call, the first included. */
  readonly attempts: number;
  /** The backoff before try n+1 is random within baseDelayMs × 2^(n-1). */
  readonly baseDelayMs: number;
  /** One try that takes longer is abandoned and tried again. */
  readonly attemptTimeoutMs: number;
  /** The whole read, every call and try included. */
  readonly readTimeoutMs: number;
  /** Where requests go: Node's fetch, looked up at each request, unless a test records them. */
  readonly fetch: typeof fetch;
}

/**
 * A read runs while a cold start's first invocation waits, and a config module reads twice (the default app, then
 * the others): two reads stay below the callback's 5 s timeout, and a throttled burst of cold starts still gets
 * its 3 tries. SSM answers GetParameters in tens of milliseconds.
 */
const LIMITS: SsmReaderLimits = {
  attempts: 3,
  baseDelayMs: 100,
  attemptTimeoutMs: 1_000,
  readTimeoutMs: 2_000,
  fetch: (input, init) => fetch(input, init),
};

/** SSM's GetParameters takes at most 10 names a call. */
const NAMES_PER_CALL = 10;

/** The SSM errors that say "later", as the SDK's own retry strategy reads them. */
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException']);

/** How much of SSM's own explanation (who may not do what) an error keeps. */
const MESSAGE_CHARS = 300;

/**
 * The SSM this process reads: on deployed stages the region's endpoint, signed with the function role's
 * credentials (the SDK's default chain, which reads them from Lambda's environment); on the local stage the
 * endpoint `KF_BRIDGE_LOCAL_ENDPOINTS` names, with the local stack's credentials.
 */
export function ssmTarget(env: NodeJS.ProcessEnv): SsmTarget {
  const region = env.AWS_REGION?.trim();
  if (!region) throw new ConfigError('AWS_REGION is not set: SSM cannot be read');
  const { endpoint, credentials }: { endpoint?: string; credentials?: AwsCredentials } = awsClientConfig(
    'ssm',
    env,
  );
  if (endpoint && credentials)
    return { endpoint: new URL(endpoint), region, credentials: async () => credentials };
  // China's regions (aws-cn) answer under their own domain.
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return { endpoint: new URL(`https://ssm.${region}.${domain}`), region, credentials: defaultProvider() };
}

/**
 * SSM's GetParameters over fetch, signed with SigV4 (AWS JSON 1.1 protocol): what the settings of a cold start
 * need, without the SSM SDK client in every bundle. `target` is looked up at the first read, so a stage that
 * never reads SSM (local) needs no region.
 */
export function createSsmReader(
  target: () => SsmTarget,
  limits: Partial<SsmReaderLimits> = {},
): ReadParameters {
  const settings = { ...LIMITS, ...limits };
  let client: { target: SsmTarget; signer: SignatureV4 } | undefined;
  return async (names) => {
    if (names.length === 0) return {};
    if (!client) {
      const resolved = target();
      client = {
        target: resolved,
        signer: new SignatureV4({
          service: 'ssm',
          region: resolved.region,
          credentials: resolved.credentials,
          sha256: Sha256,
        }),
      };
    }
    const { signer, target: ssm } = client;
    const deadline = AbortSignal.timeout(settings.readTimeoutMs);
    const found: Record<string, string> = {};
    for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
      const answer = await withRetries(settings, deadline, (signal) =>
        getParameters(ssm.endpoint, signer, settings.fetch, names.slice(i, i + NAMES_PER_CALL), signal),
      );
      Object.assign(found, answer);
    }
    return found;
  };
}

/** One try: the values it read, or why it failed and whether another try may succeed. */
type Outcome =
  | { readonly values: Record<string, string> }
  | { readonly failure: string; readonly passing: boolean; readonly cause?: unknown };

async function withRetries(
  settings: SsmReaderLimits,
  deadline: AbortSignal,
  attempt: (signal: AbortSignal) => Promise<Outcome>,
): Promise<Record<string, string>> {
  const timedOut = (cause: unknown) =>
    new DependencyError(`SSM GetParameters: no answer within ${settings.readTimeoutMs} ms`, { cause });
  for (let tries = 1; ; tries++) {
    const outcome = await attempt(
      AbortSignal.any([deadline, AbortSignal.timeout(settings.attemptTimeoutMs)]),
    );
    if ('values' in outcome) return outcome.values;
    if (deadline.aborted) throw timedOut(outcome.cause);
    const { failure, passing, cause } = outcome;
    if (!passing) throw new DependencyError(`SSM GetParameters: ${failure}`, { cause });
    if (tries >= settings.attempts)
      throw new DependencyError(`SSM GetParameters: ${failure} (${tries} tries)`, { cause });
    // Full jitter: a burst of cold starts that was throttled together does not come back together.
    await sleep(Math.random() * settings.baseDelayMs * 2 ** (tries - 1), undefined, {
      signal: deadline,
    }).catch(() => {
      throw timedOut(cause);
    });
  }
}

async function getParameters(
  endpoint: URL,
  signer: SignatureV4,
  send: typeof fetch,
  names: readonly string[],
  signal: AbortSignal,
): Promise<Outcome> {
  const body = JSON.stringify({ Names: names, WithDecryption: true });
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    path: '/',
    query: {},
    headers: {
      host: endpoint.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonSSM.GetParameters',
    },
    body,
  });
  // fetch writes the Host header itself, from the same URL the signature covers.
  const { host: _, ...headers } = signed.headers;
  let status: number;
  let text: string;
  let errorType: string | null;
  try {
    const response = await send(new URL('/', endpoint), { method: 'POST', headers, body, signal });
    status = response.status;
    errorType = response.headers.get('x-amzn-errortype');
    text = await response.text();
  } catch (error) {
    return { failure: `no answer (${(error as Error).message})`, passing: true, cause: error };
  }
  if (status >= 200 && status < 300) {
    const values = valuesOf(text);
    return values
      ? { values }
      : { failure: `HTTP ${status} with a body that is not a GetParameters answer`, passing: false };
  }
  const refusal = refusalOf(text, errorType);
  return {
    failure: `HTTP ${status} ${refusal.type ?? 'with no error type'}${refusal.message ? `: ${refusal.message}` : ''}`,
    passing: status >= 500 || status === 429 || THROTTLING.has(refusal.type ?? ''),
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

/**
 * The error type and explanation of a refusal (`{"__type": "com.amazonaws.ssm#ThrottlingException",
 * "message": …}`). The request carries names only, so SSM's explanation holds no value; nothing else of the body
 * is kept, and a type that is not a plain name is left out.
 */
function refusalOf(text: string, header: string | null): { type?: string; message?: string } {
  let body: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    body = JSON.parse(text) ?? {};
  } catch {}
  const named = typeof body.__type === 'string' ? body.__type : (header ?? '');
  const type = named.split('#').pop()?.split(':')[0]?.trim() ?? '';
  const message = typeof body.message === 'string' ? body.message : body.Message;
  return {
    ...(/^[A-Za-z][A-Za-z0-9.]{0,127}$/.test(type) && { type }),
    ...(typeof message === 'string' && message && { message: message.slice(0, MESSAGE_CHARS) }),
  };
}
