export { TOPICS, type Topic, type TopicKey } from './topics';
export {
  ORDER_STATUSES,
  OrderStatus,
  ORDER_REASONS,
  OrderReason,
  RejectionReason,
  CancellationReason,
  StockReservationFailureReason,
  PaymentDeclineReason,
} from './reasons';
export {
  defineMessage,
  defineUpcaster,
  type AnyMessageDefinition,
  type MessageDefinition,
  type MessageKind,
  type PayloadOf,
  type Upcaster,
} from './message';
export { createRegistry, type MessageRegistry, type RegistryOptions } from './registry';
export {
  EnvelopeSchema,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  TYPE_HEADER,
  INVALID_MESSAGE_REASONS,
  InvalidMessageError,
  causedBy,
  createEnvelope,
  headerText,
  readEnvelope,
  type Envelope,
  type EnvelopeMeta,
  type EnvelopeOf,
  type InvalidMessageReason,
  type OutgoingMessage,
  type ReceivedEnvelope,
  type TraceContext,
  type WireMessage,
} from './envelope';
export { CURRENT_MESSAGES, contracts, type CurrentMessageDefinition, type MessageType } from './contracts';
export { OrderPlaced, OrderConfirmed, OrderRejected, OrderCancelled } from './order.events';
export { ReserveStockV1, ReserveStock, reserveStockV1ToV2, ReleaseStock, CommitStock } from './inventory.commands';
export {
  StockReserved,
  StockReservationFailed,
  StockReleased,
  StockCommitted,
  ProductAdded,
  ProductPriceChanged,
  StockLevelChanged,
} from './inventory.events';
export { ChargePayment, RefundPayment } from './payment.commands';
export { PaymentCaptured, PaymentDeclined, PaymentRefunded } from './payment.events';
