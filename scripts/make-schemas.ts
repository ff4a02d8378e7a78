import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openApiDocument } from '../lib/admin/openApi';
import { inboundMessage } from '../lib/contracts/inbound';
import { contractJsonSchema } from '../lib/contracts/jsonSchema';
import { OUTBOUND_RULES, outboundRequest } from '../lib/contracts/outbound';
import { syncJob } from '../lib/contracts/syncJob';
import { ROOT } from '../local/serviceDefinition';

/**
 * The contracts as JSON Schema documents, and the HTTP API as an OpenAPI document, for consumers in any
 * language. Generated from the valibot schemas kf-bridge validates with, so they cannot drift: `npm run schemas`
 * after changing a contract.
 */
const DRAFT_07 = { $schema: 'http://json-schema.org/draft-07/schema#' };

export const schemas: Record<string, object> = {
  'kf-bridge.inbound.v1.json': {
    title: 'kf-bridge inbound message, v1',
    ...contractJsonSchema(inboundMessage),
    ...DRAFT_07,
  },
  'kf-bridge.outbound.v1.json': {
    title: 'kf-bridge outbound request, v1',
    ...contractJsonSchema(outboundRequest, OUTBOUND_RULES),
    ...DRAFT_07,
  },
  'kf-bridge.openapi.json': openApiDocument(),
  'kf-bridge.sync-job.v1.json': {
    title: 'kf-bridge sync job, v1',
    ...contractJsonSchema(syncJob),
    ...DRAFT_07,
  },
};

export const schemaFileText = (schema: object) => `${JSON.stringify(schema, null, 2)}\n`;

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, schema] of Object.entries(schemas)) {
    await writeFile(join(ROOT, 'schemas', file), schemaFileText(schema));
    console.log(`schemas/${file}`);
  }
}
