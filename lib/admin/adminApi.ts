import type { Config } from '../config/config';
import { validate } from '../contracts/validate';
import { BadRequestError, MethodNotAllowedError, NotFoundError } from '../errors';
import { authorize } from '../http/apiKey';
import type { Log } from '../logger';
import type { ApiRequest, ApiResponse } from '../outbound/messagesApi';
import { ADMIN_OPERATIONS, inputJsonSchema, operationName, pathFields } from './catalogue';
import type { AdminContext, AdminOperation } from './operation';

/** Avatars travel base64 in the body; Lambda takes 6 MB, a 2 MB image is 2.7 MB encoded. */
export const ADMIN_MAX_BODY_BYTES = 3 * 1024 * 1024;
export const ADMIN_PREFIX = '/v1/admin/';

export interface AdminDeps extends Omit<AdminContext, 'app' | 'signal'> {
  readonly config: Config;
  readonly log: Log;
}

const routes = ADMIN_OPERATIONS.map((operation) => ({
  operation,
  fields: pathFields(operation),
  pattern: new RegExp(`^${operation.path.replace(/\{\w+\}/g, '([^/]+)')}$`),
}))
  // A literal segment wins over a field: /kf-accounts/online is not the account named "online".
  .sort((a, b) => a.fields.length - b.fields.length);

function route(method: string, path: string): { operation: AdminOperation; params: Record<string, string> } {
  let pathKnown = false;
  for (const { operation, fields, pattern } of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    pathKnown = true;
    if (operation.method !== method) continue;
    const params: Record<string, string> = {};
    for (const [index, field] of fields.entries()) {
      try {
        params[field] = decodeURIComponent(match[index + 1] ?? '');
      } catch {
        throw new BadRequestError(`${field} in the path is not valid percent-encoding`);
      }
    }
    return { operation, params };
  }
  if (pathKnown) throw new MethodNotAllowedError(`${method} is not allowed on ${path}`);
  throw new NotFoundError(`no admin operation at ${path}`);
}

/** Query strings carry text; numbers and booleans are read as the input schema types them. */
function fromQuery(operation: AdminOperation, query: ApiRequest['query']): Record<string, unknown> {
  const properties = (inputJsonSchema(operation).properties ?? {}) as Record<string, { type?: string }>;
  const input: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    if (name === 'app' || value === undefined) continue;
    const type = properties[name]?.type;
    if (type === 'integer' || type === 'number')
      input[name] = value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    else if (type === 'boolean') input[name] = value === 'true' ? true : value === 'false' ? false : value;
    else input[name] = value;
  }
  return input;
}

function fromBody(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadRequestError('body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new BadRequestError('body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/**
 * `/v1/admin/...`: finds the operation, validates its input (query or body, plus the path) against its schema
 * with field-level errors, and runs it for the app named by `?app=` (default "default"). The platform's
 * refusals come back as PlatformErrors carrying their errcode and a sentence saying what it means.
 */
export async function handleAdminApi(request: ApiRequest, deps: AdminDeps): Promise<ApiResponse> {
  authorize(request.headers, deps.config.adminApiKey);
  const { operation, params } = route(request.method, request.path);
  const appName = request.query.app ?? 'default';
  const app = deps.config.apps.get(appName);
  // An app without this platform's settings is refused by the platform client, as everywhere.
  if (!app) throw new NotFoundError(`no app '${appName}'`);
  const raw =
    operation.method === 'GET' || operation.method === 'DELETE'
      ? fromQuery(operation, request.query)
      : fromBody(request.body);
  const input = validate(operation.input, { ...raw, ...params }, operationName(operation));
  const { config: _config, log, ...platform } = deps;
  const result = await operation.run(input, {
    ...platform,
    app,
    ...(request.signal && { signal: request.signal }),
  });
  log.info('admin operation done', { operation: operationName(operation), app: appName });
  return { status: operation.creates ? 201 : 200, body: result };
}
