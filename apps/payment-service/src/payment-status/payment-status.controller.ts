import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { z } from 'zod';
import { problem } from '@shop/health';
import { type PaymentState, refundOwed } from '../payment/payment.decider';
import { PaymentStore, replay } from '../payment/payment.store';

export interface PaymentView extends PaymentState {
  readonly orderId: string;
  /** Captured and not yet refunded although a refund was asked for: 0 once settled. */
  readonly refundOwedCents: number;
  readonly version: number;
  readonly events: ReadonlyArray<{ version: number; type: string; data: unknown; recordedAt: string }>;
}

const OrderId = z.uuid();

/**
 * GET /payments/:orderId (internal, for debugging and the auditor): the
 * payment's state, replayed from its stream, with the stream itself.
 */
@Controller('payments')
export class PaymentStatusController {
  constructor(private readonly payments: PaymentStore) {}

  @Get(':orderId')
  async get(@Param('orderId') orderId: string): Promise<PaymentView> {
    const history = OrderId.safeParse(orderId).success ? await this.payments.history(orderId) : [];
    if (history.length === 0) {
      throw new NotFoundException(problem(404, 'payment not found', `no payment for order ${orderId}`));
    }
    const state = replay(history);
    return {
      orderId,
      ...state,
      refundOwedCents: refundOwed(state),
      version: history.at(-1)?.streamVersion ?? 0,
      events: history.map((event) => ({
        version: event.streamVersion,
        type: event.type,
        data: event.data,
        recordedAt: event.recordedAt.toISOString(),
      })),
    };
  }
}
