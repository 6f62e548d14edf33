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
  type AssumedState,
  decideOnAssumedState,
  type EventStore,
  type OutboxMessage,
  recordInInbox,
  StateCache,
  UNCHECKED,
} from '@shop/event-store';
import { outboxMessage } from '@shop/messaging';
import { isRemoved } from '@shop/resilience';
import { writeOrderRow } from '../orders/orders.projection';
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
 * Runs one command on one order: load, decide, append, and in the same
 * transaction update the read model and the saga deadline and write what the
 * saga sends out (commands to inventory and payment, facts on order.events).
 * Writers of one order (the API, replies, the timeout poller) take the
 * order's advisory lock first, so they queue instead of racing.
 *
 * An order's saga writes its stream five times or so in a few hundred
 * milliseconds; the state each append leaves is kept (StateCache), so the
 * next writer decides without reading the stream back. The cache is checked
 * by the append itself, and whatever it would decide without appending is
 * decided again on the stream as stored.
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

  private async executeIn(
    client: pg.PoolClient,
    orderId: string,
    command: OrderCommand,
    meta: MessageMeta,
    inbox: { consumer: string; messageId: string } | undefined,
    locked: boolean,
  ): Promise<Decided | 'duplicate'> {
    if (inbox && !(await recordInInbox(client, inbox.consumer, inbox.messageId))) return 'duplicate';
    if (!locked) {
      await client.query({
        name: 'order-lock',
        text: 'select pg_advisory_xact_lock(hashtextextended($1, 0))',
        values: [streamOfOrder(orderId)],
      });
    }
    const streamId = streamOfOrder(orderId);
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
        await this.project(client, decided.before, decided.after);
        return decided;
      },
    );
  }

  private decide(before: OrderState, command: OrderCommand): Decided {
    const events = orderDecider.decide(command, before);
    return { before, after: events.reduce(orderDecider.evolve, before), events };
  }

  private async append(
    client: pg.PoolClient,
    streamId: string,
    { version, lastEventId }: AssumedState<OrderState>,
    isAssumed: boolean,
    { before, after, events }: Decided,
    meta: MessageMeta,
  ): Promise<void> {
    // Each event names what caused it, so an auditor can tell a message applied twice (invariant 4).
    const metadata = { correlationId: meta.correlationId, causationId: meta.causationId };
    const recorded = events.map((event) => ({ ...event, id: randomUUID(), metadata }));
    try {
      await this.store.appendToStream(streamId, version === 0 ? 'no_stream' : version, recorded, {
        client,
        ...(isAssumed && lastEventId !== undefined ? { lastEventId } : {}),
        outbox: [
          ...sagaReactions(before, events)
            // UNSAFE_REMOVE_PATTERNS=compensation: the saga never gives stock back nor refunds (the proof of its compensations).
            .filter((saga) => !(isRemoved('compensation') && COMPENSATIONS.has(saga.kind)))
            .map((saga) => this.command(after, saga, meta)),
          ...this.facts(after, events, meta),
        ],
      });
    } catch (error) {
      this.cache.delete(streamId);
      throw error;
    }
    const appended = recorded.at(-1)?.id;
    if (appended) this.cache.set(streamId, { state: after, version: version + events.length, lastEventId: appended });
  }

  /**
   * The orders read model (the same function a rebuild replays through) and
   * the saga deadline follow the order's state. The deadline is written when
   * the order becomes PENDING and deleted when it stops being PENDING; the
   * steps in between leave it alone.
   */
  private async project(client: pg.PoolClient, before: OrderState, state: OrderState): Promise<void> {
    await writeOrderRow(client, state);
    if (state.status === before.status) return;
    if (state.status === 'PENDING') {
      await client.query({
        name: 'saga-deadline-insert',
        text: 'insert into saga_deadlines (order_id, deadline) values ($1, $2) on conflict do nothing',
        values: [state.orderId, state.deadline],
      });
    } else {
      await client.query({
        name: 'saga-deadline-delete',
        text: 'delete from saga_deadlines where order_id = $1',
        values: [state.orderId],
      });
    }
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
