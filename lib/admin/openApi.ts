import * as v from 'valibot';
import { contractJsonSchema, type JsonSchema } from '../contracts/jsonSchema';
import { OUTBOUND_RULES, outboundRequest, outboundRequestId, SEND_STATUSES } from '../contracts/outbound';
import { ADMIN_OPERATIONS, inputJsonSchema, operationName, outputJsonSchema, pathFields } from './catalogue';
import type { AdminOperation } from './operation';

/**
 * The HTTP API as OpenAPI 3.1, generated from the schemas the API validates with, so the document cannot
 * drift from what the API accepts. Served at /v1/openapi.json and written to schemas/ by `npm run schemas`.
 */

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const ERRORS = {
  '400': errorResponse('The input is not valid: `issues` names each field'),
  '401': errorResponse('Missing or wrong API key'),
  '404': errorResponse('No such app, operation, or (errcode) platform object'),
  '409': errorResponse('The platform refused in the state things are in (errcode)'),
  '403': errorResponse('The platform does not allow this app the operation (errcode)'),
  '429': errorResponse("The platform's rate limit or a quota was reached (errcode); retry later"),
  '502': errorResponse('The platform refused for a reason it did not explain, or refused the credentials'),
  '503': errorResponse('Temporarily unavailable; retry'),
};

const camelWords = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
const operationId = (operation: AdminOperation) => camelWords(operationName(operation).replace(' ', '-'));

const APP_PARAMETER = {
  name: 'app',
  in: 'query',
  required: false,
  description: 'The configured app to act for (KF_BRIDGE_APPS); default "default"',
  schema: { type: 'string', default: 'default' },
};

function adminPathItem(operation: AdminOperation) {
  const input = inputJsonSchema(operation);
  const properties = (input.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((input.required ?? []) as string[]);
  const inPath = pathFields(operation);
  const parameter = (name: string, where: 'path' | 'query') => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(properties[name]?.description && { description: properties[name]?.description }),
    schema: properties[name] ?? { type: 'string' },
  });
  const query = operation.method === 'GET' || operation.method === 'DELETE';
  const rest = Object.keys(properties).filter((name) => !inPath.includes(name));
  const body: JsonSchema = {
    ...input,
    properties: Object.fromEntries(rest.map((name) => [name, properties[name] as JsonSchema])),
  };
  const bodyRequired = [...required].filter((name) => !inPath.includes(name));
  if (bodyRequired.length > 0) body.required = bodyRequired;
  else delete body.required;
  return {
    operationId: operationId(operation),
    summary: operation.summary,
    tags: [operation.group],
    description: `CLI: \`npx kf-bridge ${operationName(operation)}\``,
    security: [{ adminApiKey: [] }, { bearer: [] }],
    parameters: [
      ...inPath.map((name) => parameter(name, 'path')),
      APP_PARAMETER,
      ...(query ? rest.map((name) => parameter(name, 'query')) : []),
    ],
    ...(!query && {
      requestBody: { required: true, content: { 'application/json': { schema: body } } },
    }),
    responses: {
      [operation.creates ? '201' : '200']: {
        description: 'Done',
        content: { 'application/json': { schema: outputJsonSchema(operation) } },
      },
      ...ERRORS,
    },
  };
}

const messageStatus = v.object({
  requestId: v.string(),
  status: v.picklist(SEND_STATUSES),
});

function messagesPaths() {
  const security = [{ messagesApiKey: [] }, { bearer: [] }];
  return {
    '/v1/messages': {
      post: {
        operationId: 'messagesSend',
        summary: 'Queue an outbound message; one requestId is sent at most once',
        tags: ['messages'],
        security,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: contractJsonSchema(outboundRequest, OUTBOUND_RULES) } },
        },
        responses: {
          '202': {
            description: 'Queued',
            content: { 'application/json': { schema: contractJsonSchema(messageStatus) } },
          },
          '400': ERRORS['400'],
          '401': ERRORS['401'],
          '503': ERRORS['503'],
        },
      },
    },
    '/v1/messages/{requestId}': {
      get: {
        operationId: 'messagesStatus',
        summary:
          'The status of an outbound request: queued, sent, rejected (with reason), failed (with errcode and reason) or uncertain (may or may not have reached the customer; with reason)',
        tags: ['messages'],
        security,
        parameters: [
          {
            name: 'requestId',
            in: 'path',
            required: true,
            schema: contractJsonSchema(outboundRequestId),
          },
          APP_PARAMETER,
        ],
        responses: {
          '200': {
            description: 'The request is known',
            content: {
              'application/json': {
                schema: {
                  ...contractJsonSchema(messageStatus),
                  additionalProperties: true,
                },
              },
            },
          },
          '400': ERRORS['400'],
          '401': ERRORS['401'],
          '404': ERRORS['404'],
        },
      },
    },
  };
}

let document: object | undefined;

export function openApiDocument(): object {
  if (document) return document;
  const paths: Record<string, Record<string, unknown>> = messagesPaths();
  for (const operation of ADMIN_OPERATIONS) {
    paths[operation.path] = {
      ...paths[operation.path],
      [operation.method.toLowerCase()]: adminPathItem(operation),
    };
  }
  document = {
    openapi: '3.1.0',
    info: {
      title: 'kf-bridge HTTP API',
      version: '1.0.0',
      description:
        'Outbound messages and the admin operations of WeCom kf and Official Account customer service. Platform refusals answer `{error, errcode}`, the error a sentence saying what the errcode means.',
    },
    paths,
    components: {
      securitySchemes: {
        adminApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'ADMIN_API_KEY' },
        messagesApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'OUTBOUND_API_KEY' },
        bearer: { type: 'http', scheme: 'bearer', description: 'The same key as a bearer token' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: { type: 'string' },
            errcode: { type: 'integer', description: "The platform's errcode, when it refused" },
            issues: {
              type: 'array',
              items: {
                type: 'object',
                required: ['path', 'message'],
                properties: { path: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
  return document;
}
