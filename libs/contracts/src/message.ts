import type { z } from 'zod';
import type { Topic } from './topics';

export type MessageKind = 'command' | 'event';

/**
 * One version of one message type: what a producer may put on its topic and
 * what a consumer can rely on. A published version is never edited; a
 * breaking change adds version n+1 and an upcaster from n (style rule 6).
 */
export interface MessageDefinition<Type extends string = string, Schema extends z.ZodType = z.ZodType> {
  readonly type: Type;
  readonly version: number;
  readonly kind: MessageKind;
  readonly topic: Topic;
  readonly description: string;
  readonly schema: Schema;
  /**
   * The Kafka key, taken from the payload: the aggregate id (the order id for
   * every saga message), so one aggregate's messages stay in one partition, in order.
   * (Method syntax on purpose: a registry holds definitions of every payload type.)
   */
  key(payload: z.output<Schema>): string;
}

export type AnyMessageDefinition = MessageDefinition<string, z.ZodType>;

export type PayloadOf<D extends AnyMessageDefinition> = z.output<D['schema']>;

export function defineMessage<const Type extends string, Schema extends z.ZodType>(
  definition: MessageDefinition<Type, Schema>,
): MessageDefinition<Type, Schema> {
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    throw new Error(`${definition.type}: version must be a positive integer, got ${definition.version}`);
  }
  return Object.freeze({ ...definition });
}

/**
 * Turns a payload of version n (already valid against its schema) into one of
 * version n+1. Upcasters are pure and live beside the definitions they join.
 */
export interface Upcaster {
  readonly type: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  up(payload: unknown): unknown;
}

export function defineUpcaster<From extends AnyMessageDefinition, To extends AnyMessageDefinition>(
  from: From,
  to: To,
  up: (payload: PayloadOf<From>) => z.input<To['schema']>,
): Upcaster {
  if (from.type !== to.type || to.version !== from.version + 1) {
    throw new Error(
      `an upcaster joins version n to n+1 of one type, not ${from.type} v${from.version} to ${to.type} v${to.version}`,
    );
  }
  return Object.freeze({
    type: from.type,
    fromVersion: from.version,
    toVersion: to.version,
    // The registry validates against `from.schema` before calling, so the payload has that shape.
    up: (payload: unknown) => up(payload as PayloadOf<From>),
  });
}
