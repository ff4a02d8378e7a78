import { contractJsonSchema, type JsonSchema } from '../contracts/jsonSchema';
import { DLQ_OPERATIONS } from './dlqOperations';
import { MP_OPERATIONS } from './mpOperations';
import type { AdminOperation } from './operation';
import { TRACE_OPERATIONS } from './traceOperations';
import { WECOM_OPERATIONS } from './wecomOperations';

/** Every admin operation; the CLI, the HTTP API and the OpenAPI document are all read from this list. */
export const ADMIN_OPERATIONS: readonly AdminOperation[] = [
  ...WECOM_OPERATIONS,
  ...MP_OPERATIONS,
  ...DLQ_OPERATIONS,
  ...TRACE_OPERATIONS,
];

export const operationName = (operation: AdminOperation) =>
  operation.command === undefined ? operation.group : `${operation.group} ${operation.command}`;

/** The fields named `{like}` in an operation's path. */
export const pathFields = (operation: AdminOperation) =>
  [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);

const inputSchemas = new Map<AdminOperation, JsonSchema>();

/** The operation's input as JSON Schema, converted once. */
export function inputJsonSchema(operation: AdminOperation): JsonSchema {
  let schema = inputSchemas.get(operation);
  if (!schema) {
    schema = contractJsonSchema(operation.input, operation.rules);
    inputSchemas.set(operation, schema);
  }
  return schema;
}

export const outputJsonSchema = (operation: AdminOperation) => contractJsonSchema(operation.output);
