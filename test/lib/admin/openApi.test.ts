import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ADMIN_OPERATIONS, pathFields } from '../../../lib/admin/catalogue';
import { openApiDocument } from '../../../lib/admin/openApi';

interface Operation {
  operationId: string;
  parameters?: { name: string; in: string; schema: object }[];
  requestBody?: { content: { 'application/json': { schema: object } } };
  responses: Record<string, { content?: { 'application/json': { schema: object } } }>;
}
const document = openApiDocument() as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
};
const operationOf = (path: string, method: string) =>
  document.paths[path]?.[method.toLowerCase()] as Operation;
const ajv = new Ajv2020({ strict: false, validateFormats: false });
ajv.addSchema(document.components.schemas.Error as object, '#/components/schemas/Error');

describe('the OpenAPI document', () => {
  it('describes every admin operation at its route, with its path fields and a unique operationId', () => {
    expect(document.openapi).toBe('3.1.0');
    const ids = new Set<string>();
    for (const admin of ADMIN_OPERATIONS) {
      const operation = operationOf(admin.path, admin.method);
      expect(operation, `${admin.method} ${admin.path}`).toBeDefined();
      ids.add(operation.operationId);
      const inPath = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(inPath).toEqual(pathFields(admin));
    }
    expect(ids.size).toBe(ADMIN_OPERATIONS.length);
    expect(operationOf('/v1/messages', 'POST')).toBeDefined();
  });

  it('holds JSON Schemas a validator compiles, rules included', () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const schemas = [
          operation.requestBody?.content['application/json'].schema,
          ...(operation.parameters ?? []).map((p) => p.schema),
          ...Object.values(operation.responses).map((r) => r.content?.['application/json'].schema),
        ].filter(Boolean) as object[];
        for (const schema of schemas) expect(() => ajv.compile(schema), `${method} ${path}`).not.toThrow();
      }
    }
    const link = ajv.compile(
      operationOf('/v1/admin/kf/accounts/{openKfId}/contact-way', 'POST').requestBody?.content[
        'application/json'
      ].schema as object,
    );
    expect(link({ scene: 'promo', sceneParam: '双11' })).toBe(true);
    expect(link({ sceneParam: '双11' })).toBe(false);
    const add = ajv.compile(
      operationOf('/v1/admin/kf/accounts', 'POST').requestBody?.content['application/json'].schema as object,
    );
    expect(add({ name: '售后客服', avatar: { mediaId: 'M1' } })).toBe(true);
    expect(add({ name: '售后客服', avatar: { mediaId: 'M1', url: 'https://a.example/a.png' } })).toBe(false);
    expect(add({ name: '一二三四五六七八九十一二三四五六七', avatar: { mediaId: 'M1' } })).toBe(false);
    const trans = ajv.compile(
      operationOf('/v1/admin/kf/accounts/{openKfId}/sessions/{externalUserId}/trans', 'POST').requestBody
        ?.content['application/json'].schema as object,
    );
    expect(trans({ state: 'servicer', servicerUserId: 'zhangsan' })).toBe(true);
    expect(trans({ state: 'servicer' })).toBe(false);
    expect(trans({ state: 'ended', servicerUserId: 'zhangsan' })).toBe(false);
  });
});
