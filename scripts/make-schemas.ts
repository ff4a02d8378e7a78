import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConversionConfig, type JsonSchema, toJsonSchema } from '@valibot/to-json-schema';
import { inboundMessage } from '../lib/contracts/inbound';
import { AT_MOST_ONE_THUMB, ONE_MEDIA, ONE_THUMB, outboundRequest } from '../lib/contracts/outbound';
import { syncJob } from '../lib/contracts/syncJob';
import { ROOT } from '../local/serviceDefinition';

/**
 * The contracts as JSON Schema documents, for consumers in any language. Generated from the valibot
 * schemas kf-bridge validates with, so the two cannot drift: `npm run schemas` after changing a contract.
 */
const present = (fields: string[]) => fields.map((field) => ({ required: [field] }));
const MEDIA_FIELDS = ['mediaId', 'url', 's3'];
const THUMB_FIELDS = ['thumbMediaId', 'thumbUrl', 'thumbS3'];

/** JSON Schema for the outbound contract's own checks, which the converter cannot read from their code. */
const OUTBOUND_CHECKS: Record<string, JsonSchema> = {
  [ONE_MEDIA]: { oneOf: present(MEDIA_FIELDS) },
  [ONE_THUMB]: { oneOf: present(THUMB_FIELDS) },
  [AT_MOST_ONE_THUMB]: {
    not: {
      anyOf: [
        { required: [THUMB_FIELDS[0], THUMB_FIELDS[1]] },
        { required: [THUMB_FIELDS[0], THUMB_FIELDS[2]] },
        { required: [THUMB_FIELDS[1], THUMB_FIELDS[2]] },
      ],
    } as JsonSchema,
  },
};

const outboundChecks: ConversionConfig['overrideAction'] = ({ valibotAction, jsonSchema }) => {
  if (valibotAction.type !== 'check') return undefined;
  const message = String((valibotAction as { message?: unknown }).message);
  // UTF-8 bytes are never fewer than characters, so a byte limit implies the same character limit.
  const bytes = /^at most (\d+) bytes$/.exec(message);
  if (bytes) return { ...jsonSchema, maxLength: Number(bytes[1]), description: `${message} (UTF-8)` };
  const rule = OUTBOUND_CHECKS[message];
  return rule && { ...jsonSchema, allOf: [...(jsonSchema.allOf ?? []), rule] };
};

export const schemas: Record<string, object> = {
  'kf-bridge.inbound.v1.json': {
    title: 'kf-bridge inbound message, v1',
    ...toJsonSchema(inboundMessage, { errorMode: 'throw' }),
  },
  'kf-bridge.outbound.v1.json': {
    title: 'kf-bridge outbound request, v1',
    ...toJsonSchema(outboundRequest, { errorMode: 'throw', overrideAction: outboundChecks }),
  },
  'kf-bridge.sync-job.v1.json': {
    title: 'kf-bridge sync job, v1',
    ...toJsonSchema(syncJob, { errorMode: 'throw' }),
  },
};

export const schemaFileText = (schema: object) => `${JSON.stringify(schema, null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, schema] of Object.entries(schemas)) {
    await writeFile(join(ROOT, 'schemas', file), schemaFileText(schema));
    console.log(`schemas/${file}`);
  }
}
