import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  ChargePayment,
  CommitStock,
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  OrderRejected,
  RefundPayment,
  ReleaseStock,
  ReserveStock,
} from '@shop/contracts';
import {
  type AlongsideWrite,
  type AppendCondition,
  type AssumedState,
  type CausingMessage,
  type ClaimWrite,
  ConcurrencyError,
  decideOnAssumedState,
  type EventStore,
  type OutboxMessage,
  lockStreamAndRecord,
  lockStreams,
  recordInInbox,
  StateCache,
  UNCHECKED,
} from '@shop/event-store';
import { outboxMessage } from '@shop/messaging';
import { isRemoved } from '@shop/resilience';
import { orderRowAlongside } from '../orders/orders.projection';
import { recordSagaOutcome } from './saga.metrics';
import { orderDecider, type OrderState, sagaReactions } from './order.decider';
import type { OrderCommand, OrderEvent, SagaCommand } from './order.events';

export const streamOfOrder = (orderId: string) => `order-${orderId}`;

const COMPENSATIONS: ReadonlySet<SagaCommand['kind']> = new Set(['ReleaseStock', 'RefundPayment']);

export interface Decided {
  readonly before: OrderState;
  readonly after: OrderState;
  readonly events: readonly OrderEvent[];
}

export interface MessageMeta {
  readonly correlationId: string;
  readonly causationId: string;
}

/** An order assumed not to exist yet; at version 0 the append's check (no events) needs no event id. */
const NO_STREAM: AssumedState<OrderState> = { state: orderDecider.initialState(), version: 0 };

/**
 * Runs one command on one order: load, decide, append, and in the append's
 * own statement update the read model and the saga deadline and write what
 * the saga sends out (commands to inventory and payment, facts on
 * order.events).
 *
 * An order's saga writes its stream five times or so in a few hundred
 * milliseconds; the state each append leaves is kept (StateCache), so the
 * next writer decides without reading the stream back. The cache is checked
 * by the append itself (ADR 0008). On that state a message's whole effect,
 * its inbox row included, is one statement with no transaction around it
 * (ADR 0009). Whatever the cached state cannot settle (a refusal, a decision
 * without events, a failed check) is decided again on the stream, in a
 * transaction that takes the order's advisory lock first, so writers of one
 * order (the API, replies, the timeout poller) queue there instead of racing.
 */
export class OrderStore {
  private readonly cache: StateCache<OrderState>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly store: EventStore,
    private readonly stackId: string,
    options: { readonly cacheSize?: number } = {},
  ) {
    this.cache = new StateCache(options.cacheSize);
  }

  /** Whether this process holds the order's state from its own last append (the one-statement path can run). */
  holds(orderId: string): boolean {
    return this.cache.get(streamOfOrder(orderId)) !== undefined;
  }

  async load(orderId: string, client?: pg.PoolClient): Promise<{ state: OrderState; version: number }> {
    const { state, version } = await this.read(orderId, client);
    return { state, version };
  }

  private async read(orderId: string, client?: pg.PoolClient): Promise<AssumedState<OrderState>> {
    const events = await this.store.readStream(streamOfOrder(orderId), 1, client);
    const state = events.reduce<OrderState>(
      (current, event) => orderDecider.evolve(current, { type: event.type, data: event.data } as OrderEvent),
      orderDecider.initialState(),
    );
    const last = events.at(-1);
    return last ? { state, version: last.streamVersion, lastEventId: last.id } : { state, version: 0 };
  }

  /**
   * In the caller's transaction (`client`), or its own; with `inbox`, a
   * duplicate message changes nothing. The saga metrics count the outcome
   * once it is committed: in its own transaction here, in the caller's by
   * the caller (recordSagaOutcome after its commit).
   */
  async execute(
    orderId: string,
    command: OrderCommand,
    meta: MessageMeta,
    options: {
      client?: pg.PoolClient;
      inbox?: { consumer: string; messageId: string };
      /** The caller's transaction holds the order's lock already (lockStreams). */
      locked?: boolean;
    } = {},
  ): Promise<Decided | 'duplicate'> {
    if (options.client) {
      return this.executeIn(options.client, orderId, command, meta, options.inbox, options.locked ?? false);
    }
    const atOnce = await this.executeAtOnce(orderId, command, meta, options.inbox);
    if (atOnce !== UNCHECKED) {
      if (atOnce !== 'duplicate') recordSagaOutcome(atOnce.before, atOnce.after);
      return atOnce;
    }
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const result = await this.executeIn(client, orderId, command, meta, options.inbox, false);
      await client.query(result === 'duplicate' ? 'rollback' : 'commit');
      if (result !== 'duplicate') recordSagaOutcome(result.before, result.after);
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * On the state this process's last append left (or an empty stream, for a
   * new order) and with no transaction: decide, then write the events, the
   * outbox, the read model, the deadline and the message's inbox row in one
   * statement. UNCHECKED when that state cannot settle it (see above); then
   * nothing was written.
   */
  private async executeAtOnce(
    orderId: string,
    command: OrderCommand,
    meta: MessageMeta,
    claim: CausingMessage | ClaimWrite | undefined,
    requires?: AppendCondition,
  ): Promise<Decided | 'duplicate' | typeof UNCHECKED> {
    const streamId = streamOfOrder(orderId);
    const assumed = this.cache.get(streamId) ?? (command.kind === 'PlaceOrder' ? NO_STREAM : undefined);
    if (!assumed) return UNCHECKED;
    let decided: Decided;
    try {
      decided = this.decide(assumed.state, command);
    } catch {
      return UNCHECKED;
    }
    if (decided.events.length === 0) return UNCHECKED;
    try {
      const appended = await this.append(undefined, streamId, assumed, true, decided, meta, claim, requires);
      return appended === 'duplicate' ? 'duplicate' : decided;
    } catch (error) {
      if (error instanceof ConcurrencyError) return UNCHECKED;
      throw error;
    }
  }

  /**
   * A new order as one statement: `claim` (the request's idempotency key),
   * OrderPlaced, the saga's first command, the orders row and the deadline,
   * written only if `requires` holds (the prices the order was given are
   * still the catalog's). 'duplicate' when the key was claimed before;
   * UNCHECKED (nothing written) when the decision needs the stream or
   * `requires` did not hold, for the caller to decide again.
   */
  async placeAtOnce(
    orderId: string,
    command: Extract<OrderCommand, { kind: 'PlaceOrder' }>,
    meta: MessageMeta,
    claim: ClaimWrite,
    requires?: AppendCondition,
  ): Promise<Decided | 'duplicate' | typeof UNCHECKED> {
    const placed = await this.executeAtOnce(orderId, command, meta, claim, requires);
    if (placed !== UNCHECKED && placed !== 'duplicate') recordSagaOutcome(placed.before, placed.after);
    return placed;
  }

  private async executeIn(
    client: pg.PoolClient,
    orderId: string,
    command: OrderCommand,
    meta: MessageMeta,
    inbox: { consumer: string; messageId: string } | undefined,
    locked: boolean,
  ): Promise<Decided | 'duplicate'> {
    const streamId = streamOfOrder(orderId);
    // The order's lock before anything is written: the transaction gets its id (which orders its outbox
    // rows for the relay) only once it holds the lock, so it cannot be ordered before a writer it waited for.
    if (locked) {
      if (inbox && !(await recordInInbox(client, inbox.consumer, inbox.messageId))) return 'duplicate';
    } else if (inbox) {
      if (!(await lockStreamAndRecord(client, streamId, inbox.consumer, inbox.messageId))) return 'duplicate';
    } else {
      await lockStreams(client, [streamId]);
    }
    // Not read: the state this process's last append left, or, for a new order, an empty stream.
    const assumed = this.cache.get(streamId) ?? (command.kind === 'PlaceOrder' ? NO_STREAM : undefined);
    return decideOnAssumedState(
      assumed,
      () => this.read(orderId, client),
      async (loaded, isAssumed): Promise<Decided | typeof UNCHECKED> => {
        let decided: Decided;
        try {
          decided = this.decide(loaded.state, command);
        } catch (error) {
          // A refusal of an assumed state may be the assumption's mistake.
          if (isAssumed) return UNCHECKED;
          throw error;
        }
        if (decided.events.length === 0) return isAssumed ? UNCHECKED : decided;
        await this.append(client, streamId, loaded, isAssumed, decided, meta);
        return decided;
      },
    );
  }

  private decide(before: OrderState, command: OrderCommand): Decided {
    const events = orderDecider.decide(command, before);
    return { before, after: events.reduce(orderDecider.evolve, before), events };
  }

  /**
   * In `client`'s transaction, or (without one) as one statement that also
   * takes `claim` (a message's inbox row, an idempotency key); 'duplicate'
   * when that was taken before.
   */
  private async append(
    client: pg.PoolClient | undefined,
    streamId: string,
    { version, lastEventId }: AssumedState<OrderState>,
    isAssumed: boolean,
    { before, after, events }: Decided,
    meta: MessageMeta,
    claim?: CausingMessage | ClaimWrite,
    requires?: AppendCondition,
  ): Promise<'appended' | 'duplicate'> {
    // Each event names what caused it, so an auditor can tell a message applied twice (invariant 4).
    const metadata = { correlationId: meta.correlationId, causationId: meta.causationId };
    const recorded = events.map((event) => ({ ...event, id: randomUUID(), metadata }));
    const options = {
      ...(isAssumed && lastEventId !== undefined ? { lastEventId } : {}),
      alongside: this.alongside(before, after),
      outbox: [
        ...sagaReactions(before, events)
          // UNSAFE_REMOVE_PATTERNS=compensation: the saga never gives stock back nor refunds (the proof of its compensations).
          .filter((saga) => !(isRemoved('compensation') && COMPENSATIONS.has(saga.kind)))
          .map((saga) => this.command(after, saga, meta)),
        ...this.facts(after, events, meta),
      ],
    };
    const expected = version === 0 ? 'no_stream' : version;
    try {
      const result = client
        ? await this.store.appendToStream(streamId, expected, recorded, { ...options, client })
        : await this.store.appendOnce(claim, streamId, expected, recorded, {
            ...options,
            ...(requires ? { requires } : {}),
          });
      if (result === 'duplicate') return 'duplicate';
    } catch (error) {
      this.cache.delete(streamId);
      throw error;
    }
    const appended = recorded.at(-1)?.id;
    if (appended) this.cache.set(streamId, { state: after, version: version + events.length, lastEventId: appended });
    return 'appended';
  }

  /**
   * The orders read model (the same row a rebuild writes) and the saga
   * deadline follow the order's state, in the append's statement. The
   * deadline is written when the order becomes PENDING and deleted when it
   * stops being PENDING; the steps in between leave it alone.
   */
  private alongside(before: OrderState, state: OrderState): AlongsideWrite[] {
    const writes = [orderRowAlongside(state)];
    if (state.status === before.status) return writes;
    writes.push(
      state.status === 'PENDING'
        ? {
            sql: 'insert into saga_deadlines (order_id, deadline) select $1::uuid, $2::timestamptz from appended on conflict do nothing',
            values: [state.orderId, state.deadline],
          }
        : {
            sql: 'delete from saga_deadlines where order_id = $1::uuid and exists (select 1 from appended)',
            values: [state.orderId],
          },
    );
    return writes;
  }

  private command(state: OrderState, saga: SagaCommand, meta: MessageMeta): OutboxMessage {
    const orderId = state.orderId;
    switch (saga.kind) {
      case 'ReserveStock':
        return outboxMessage(
          this.stackId,
          ReserveStock,
          {
            orderId,
            items: state.items.map(({ sku, quantity }) => ({ sku, quantity })),
          },
          meta,
        );
      case 'ChargePayment':
        return outboxMessage(
          this.stackId,
          ChargePayment,
          {
            orderId,
            amountCents: state.totalCents,
            currency: state.currency,
            paymentToken: state.paymentToken,
          },
          meta,
        );
      case 'CommitStock':
        return outboxMessage(this.stackId, CommitStock, { orderId }, meta);
      case 'ReleaseStock':
        return outboxMessage(this.stackId, ReleaseStock, { orderId }, meta);
      case 'RefundPayment':
        return outboxMessage(this.stackId, RefundPayment, { orderId }, meta);
      default: {
        const unknown: never = saga;
        return unknown;
      }
    }
  }

  /** Facts on order.events for anyone who follows orders. */
  private facts(state: OrderState, events: readonly OrderEvent[], meta: MessageMeta): OutboxMessage[] {
    const orderId = state.orderId;
    return events.flatMap((event): OutboxMessage[] => {
      switch (event.type) {
        case 'OrderPlaced':
          return [
            outboxMessage(
              this.stackId,
              OrderPlaced,
              {
                orderId,
                userId: state.userId,
                items: [...state.items],
                totalCents: state.totalCents,
                currency: state.currency,
              },
              meta,
            ),
          ];
        case 'OrderConfirmed':
          return [outboxMessage(this.stackId, OrderConfirmed, { orderId }, meta)];
        case 'OrderRejected':
          return [outboxMessage(this.stackId, OrderRejected, { orderId, reason: event.data.reason }, meta)];
        case 'OrderCancelled':
          return [outboxMessage(this.stackId, OrderCancelled, { orderId, reason: 'CANCELLED_BY_CUSTOMER' }, meta)];
        default:
          return [];
      }
    });
  }
}
