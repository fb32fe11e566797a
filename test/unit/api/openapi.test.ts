/**
 * The OpenAPI document: valid by @apidevtools/swagger-parser (schema and semantics, every $ref
 * resolved), and in step with what the server answers: the same operations, methods and scopes.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { OPENAPI } from '../../../src/api/openapi.ts';
import { API_ROUTES } from '../../../src/api/routes.ts';

type Operations = Record<string, Record<string, { operationId: string; 'x-parley-scope'?: string }>>;

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.0 document', async () => {
    // validate() dereferences in place: it gets a copy.
    const api = await SwaggerParser.validate(structuredClone(OPENAPI) as never);
    expect(api.info.title).toBe('Parley HTTP API');
  });

  it('describes exactly the operations the server answers, with their scopes', () => {
    const described = Object.entries(OPENAPI.paths as unknown as Operations).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, id: op.operationId, scope: op['x-parley-scope'] })),
    );
    const served = API_ROUTES.map((r) => ({ method: r.method, path: r.path, id: r.id, scope: r.scope }));
    const key = (o: { id: string }): string => o.id;
    expect([...described].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...served].sort((a, b) => key(a).localeCompare(key(b))));
  });

  it('refuses a broken document (the validator really checks)', async () => {
    const broken = structuredClone(OPENAPI) as unknown as { paths: Operations };
    (broken.paths['/v1/messages']!.post as unknown as { responses: unknown }).responses = { '202': { content: {} } };
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
  });
});
