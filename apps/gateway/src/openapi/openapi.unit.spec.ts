import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openApiDocument } from './openapi';
import { jsonRefs, resolveJsonRef } from '@shop/testing';

const CHECKED_IN = path.join(__dirname, '..', '..', 'openapi.json');

type Json = Record<string, unknown>;

/** docs/contract.md, "Routes": every public route, its auth, its success status and the fields of that body. */
const CONTRACT_ROUTES: ReadonlyArray<{
  method: 'get' | 'post';
  path: string;
  bearer: boolean;
  status: number;
  fields: readonly string[];
}> = [
  { method: 'post', path: '/api/v1/auth/register', bearer: false, status: 201, fields: ['userId'] },
  {
    method: 'post',
    path: '/api/v1/auth/login',
    bearer: false,
    status: 200,
    fields: ['accessToken', 'tokenType', 'expiresIn'],
  },
  { method: 'get', path: '/api/v1/me', bearer: true, status: 200, fields: ['userId', 'email', 'name'] },
  { method: 'get', path: '/api/v1/products', bearer: false, status: 200, fields: ['items'] },
  {
    method: 'get',
    path: '/api/v1/products/{sku}',
    bearer: false,
    status: 200,
    fields: ['sku', 'name', 'priceCents', 'currency', 'available'],
  },
  { method: 'post', path: '/api/v1/orders', bearer: true, status: 202, fields: ['orderId', 'status'] },
  {
    method: 'get',
    path: '/api/v1/orders/{orderId}',
    bearer: true,
    status: 200,
    fields: ['orderId', 'status', 'items', 'totalCents', 'currency', 'createdAt', 'updatedAt'],
  },
  { method: 'get', path: '/api/v1/orders', bearer: true, status: 200, fields: ['items'] },
  { method: 'post', path: '/api/v1/orders/{orderId}/cancel', bearer: true, status: 202, fields: ['orderId', 'status'] },
];

/** A value at a path of keys, or undefined. */
function at(node: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>(
    (current, key) => (current && typeof current === 'object' ? (current as Json)[key] : undefined),
    node,
  );
}

describe('OpenAPI document', () => {
  const document = openApiDocument();

  it('is up to date: the checked-in openapi.json is what openApiDocument() builds', () => {
    // On failure: npm run gateway:openapi (tsc -b apps/gateway && node apps/gateway/dist/openapi/generate-openapi.js).
    const checkedIn = JSON.parse(readFileSync(CHECKED_IN, 'utf8')) as unknown;
    expect(checkedIn).toStrictEqual(JSON.parse(JSON.stringify(document)));
  });

  it('is OpenAPI 3.1 with a bearer security scheme', () => {
    expect(document['openapi']).toBe('3.1.0');
    expect(at(document, 'components', 'securitySchemes', 'bearer')).toEqual({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  });

  it.each(CONTRACT_ROUTES)(
    'has $method $path with its success status $status and body',
    ({ method, path: route, bearer, status, fields }) => {
      const operation = at(document, 'paths', route, method) as Json | undefined;
      expect(operation).toBeDefined();

      const schemaRef = at(operation, 'responses', String(status), 'content', 'application/json', 'schema', '$ref');
      expect(typeof schemaRef).toBe('string');
      const schema = resolveJsonRef(document, schemaRef as string) as Json;
      expect(schema['required']).toEqual(expect.arrayContaining([...fields]));

      if (bearer) {
        expect(operation?.['security']).toEqual([{ bearer: [] }]);
        expect(at(operation, 'responses', '401', 'content', 'application/problem+json')).toBeDefined();
      } else {
        expect(operation?.['security']).toBeUndefined();
      }
    },
  );

  it('describes every error as problem+json, with 429 and 503 on every route', () => {
    for (const { method, path: route } of CONTRACT_ROUTES) {
      const responses = at(document, 'paths', route, method, 'responses') as Json;
      const errors = Object.keys(responses).filter((status) => Number(status) >= 400);
      expect(errors).toEqual(expect.arrayContaining(['429', '503']));
      for (const status of errors) {
        expect(at(responses, status, 'content', 'application/problem+json', 'schema')).toEqual({
          $ref: '#/components/schemas/Problem',
        });
      }
    }
  });

  it('requires an Idempotency-Key on POST /orders and documents the replay (200)', () => {
    const operation = at(document, 'paths', '/api/v1/orders', 'post');
    expect(at(operation, 'parameters')).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true })]),
    );
    expect(at(operation, 'responses', '200')).toBeDefined();
  });

  it('describes request bodies with the edge’s validation rules (unknown fields refused)', () => {
    const register = at(document, 'components', 'schemas', 'RegisterRequest') as Json;
    expect(register).toMatchObject({
      additionalProperties: false,
      required: expect.arrayContaining(['email', 'password', 'name']),
      properties: { password: { minLength: 8 } },
    });
    const placeOrder = at(document, 'components', 'schemas', 'PlaceOrderRequest') as Json;
    expect(placeOrder).toMatchObject({
      additionalProperties: false,
      required: expect.arrayContaining(['items', 'paymentToken']),
      properties: {
        items: { minItems: 1, maxItems: 50 },
        paymentToken: { enum: ['tok_visa', 'tok_chargeDeclined', 'tok_chargeDeclinedInsufficientFunds'] },
      },
    });
  });

  it('has no dangling $ref', () => {
    const dangling = jsonRefs(document).filter((ref) => resolveJsonRef(document, ref) === undefined);
    expect(dangling).toEqual([]);
  });
});
