import { z } from 'zod';
import { AccessToken, LoginBody, RegisterBody, Registered } from '../auth/auth.schemas';
import { ProblemDocument } from '../http/api';
import { Profile } from '../me/me.schemas';
import {
  IdempotencyKey,
  ListOrdersQuery,
  Order,
  OrderAccepted,
  OrderIdParam,
  OrderPage,
  PlaceOrderBody,
} from '../orders/orders.schemas';
import { Product, ProductList, SkuParam } from '../products/products.schemas';

type JsonSchema = Record<string, unknown>;

/**
 * The named schemas of the document: the very zod schemas the controllers
 * validate with (requests) and describe the services' answers with
 * (responses), so the document cannot drift from the code.
 */
const SCHEMAS = {
  RegisterRequest: RegisterBody,
  Registered,
  LoginRequest: LoginBody,
  AccessToken,
  Profile,
  Product,
  ProductList,
  PlaceOrderRequest: PlaceOrderBody,
  OrderAccepted,
  Order,
  OrderPage,
  Problem: ProblemDocument,
} as const;

type SchemaName = keyof typeof SCHEMAS;

interface Operation {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly summary: string;
  readonly auth?: boolean;
  readonly body?: SchemaName;
  readonly query?: z.ZodObject;
  readonly pathParams?: Readonly<Record<string, z.ZodType>>;
  readonly headers?: Readonly<Record<string, { schema: z.ZodType; description: string }>>;
  readonly success: { readonly status: number; readonly schema: SchemaName; readonly description: string };
  readonly also?: readonly { readonly status: number; readonly schema: SchemaName; readonly description: string }[];
  readonly errors: readonly number[];
}

const OPERATIONS: readonly Operation[] = [
  {
    method: 'post',
    path: '/api/v1/auth/register',
    summary: 'Register an account',
    body: 'RegisterRequest',
    success: { status: 201, schema: 'Registered', description: 'Registered' },
    errors: [400, 409, 413, 415, 429, 503],
  },
  {
    method: 'post',
    path: '/api/v1/auth/login',
    summary: 'Log in: an access token for the Bearer header',
    body: 'LoginRequest',
    success: { status: 200, schema: 'AccessToken', description: 'Logged in' },
    errors: [400, 401, 413, 415, 429, 503],
  },
  {
    method: 'get',
    path: '/api/v1/me',
    summary: 'The signed-in user',
    auth: true,
    success: { status: 200, schema: 'Profile', description: 'The profile' },
    errors: [401, 404, 429, 503],
  },
  {
    method: 'get',
    path: '/api/v1/products',
    summary: 'The catalog (a stale copy, marked `x-cache: stale`, while inventory is down)',
    success: { status: 200, schema: 'ProductList', description: 'Every product' },
    errors: [429, 503],
  },
  {
    method: 'get',
    path: '/api/v1/products/{sku}',
    summary: 'One product (a stale copy, marked `x-cache: stale`, while inventory is down)',
    pathParams: { sku: SkuParam },
    success: { status: 200, schema: 'Product', description: 'The product' },
    errors: [404, 429, 503],
  },
  {
    method: 'post',
    path: '/api/v1/orders',
    summary: 'Place an order (accepted at once, settled by the saga)',
    auth: true,
    body: 'PlaceOrderRequest',
    headers: {
      'Idempotency-Key': {
        schema: IdempotencyKey,
        description: 'Required. The same key with the same body returns the same order; with another body, 409.',
      },
    },
    success: { status: 202, schema: 'OrderAccepted', description: 'Accepted; `Location` names the order' },
    also: [{ status: 200, schema: 'OrderAccepted', description: 'A replay of an accepted order (same key and body)' }],
    errors: [400, 401, 409, 413, 415, 429, 503],
  },
  {
    method: 'get',
    path: '/api/v1/orders',
    summary: 'My orders, newest first',
    auth: true,
    query: ListOrdersQuery,
    success: { status: 200, schema: 'OrderPage', description: 'One page' },
    errors: [400, 401, 429, 503],
  },
  {
    method: 'get',
    path: '/api/v1/orders/{orderId}',
    summary: 'One of my orders',
    auth: true,
    pathParams: { orderId: OrderIdParam },
    success: { status: 200, schema: 'Order', description: 'The order' },
    errors: [401, 404, 429, 503],
  },
  {
    method: 'post',
    path: '/api/v1/orders/{orderId}/cancel',
    summary: 'Cancel one of my orders (stock returned, payment refunded)',
    auth: true,
    pathParams: { orderId: OrderIdParam },
    success: { status: 202, schema: 'OrderAccepted', description: 'Cancelling; the status at this moment' },
    errors: [401, 404, 409, 429, 503],
  },
];

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Malformed JSON, unknown fields, wrong types or out-of-range values (`errors` lists them)',
  401: 'Missing, invalid or expired token (or a failed login)',
  404: 'Unknown or malformed id, or an order of someone else',
  409: 'Conflict (email taken, Idempotency-Key reused with another body, order not cancellable)',
  413: 'Body over 64 KiB',
  415: 'Body is not application/json',
  429: 'Rate limit; see `Retry-After`',
  503: 'A dependency is down and no fallback exists; see `Retry-After`',
};

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });

function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  return rest;
}

function components(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io: 'input', uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as JsonSchema;
      return [id, rest];
    }),
  );
}

function parameters(operation: Operation): JsonSchema[] {
  const inPath = Object.entries(operation.pathParams ?? {}).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: jsonSchema(schema),
  }));
  const inHeader = Object.entries(operation.headers ?? {}).map(([name, { schema, description }]) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: jsonSchema(schema),
  }));
  const query = operation.query ? jsonSchema(operation.query) : undefined;
  const required = new Set((query?.['required'] as string[] | undefined) ?? []);
  const inQuery = Object.entries((query?.['properties'] as Record<string, JsonSchema> | undefined) ?? {}).map(
    ([name, schema]) => ({ name, in: 'query', required: required.has(name), schema }),
  );
  return [...inPath, ...inQuery, ...inHeader];
}

function responses(operation: Operation): Record<string, JsonSchema> {
  const json = (schema: SchemaName) => ({ 'application/json': { schema: ref(schema) } });
  const result: Record<string, JsonSchema> = {};
  for (const { status, schema, description } of [operation.success, ...(operation.also ?? [])]) {
    result[String(status)] = { description, content: json(schema) };
  }
  for (const status of operation.errors) {
    result[String(status)] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { 'application/problem+json': { schema: ref('Problem') } },
    };
  }
  return result;
}

/** The OpenAPI 3.1 document of the public API, served at GET /docs and checked in as apps/gateway/openapi.json. */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const operation of OPERATIONS) {
    const parameterList = parameters(operation);
    (paths[operation.path] ??= {})[operation.method] = {
      summary: operation.summary,
      ...(operation.auth ? { security: [{ bearer: [] }] } : {}),
      ...(parameterList.length ? { parameters: parameterList } : {}),
      ...(operation.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(operation.body) } } } }
        : {}),
      responses: responses(operation),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Shop API',
      version: '1.0.0',
      description:
        'The public API of the shop (docs/contract.md), served by the gateway. Every 4xx/5xx body is ' +
        'application/problem+json (RFC 9457).',
    },
    paths,
    components: {
      schemas: components(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
