import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toJsonSchema } from '@valibot/to-json-schema';
import { inboundMessage } from '../lib/contracts/inbound';
import { syncJob } from '../lib/contracts/syncJob';
import { ROOT } from '../local/serviceDefinition';

/**
 * The contracts as JSON Schema documents, for consumers in any language. Generated from the valibot
 * schemas kf-bridge validates with, so the two cannot drift: `npm run schemas` after changing a contract.
 */
export const schemas: Record<string, object> = {
  'kf-bridge.inbound.v1.json': {
    title: 'kf-bridge inbound message, v1',
    ...toJsonSchema(inboundMessage, { errorMode: 'throw' }),
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
