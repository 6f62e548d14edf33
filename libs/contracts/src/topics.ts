/**
 * The topics that cross service boundaries (docs/design.md, "Messaging"): facts on
 * `<service>.events`, saga commands on `<service>.commands`, keyed by order id.
 * Each is provisioned by the service that owns it, with an explicit partition
 * count; the broker never creates a topic on its own.
 */
export const TOPICS = {
  orderEvents: { name: 'order.events', owner: 'order-service', partitions: 6 },
  inventoryCommands: { name: 'inventory.commands', owner: 'inventory-service', partitions: 6 },
  inventoryEvents: { name: 'inventory.events', owner: 'inventory-service', partitions: 6 },
  paymentCommands: { name: 'payment.commands', owner: 'payment-service', partitions: 6 },
  paymentEvents: { name: 'payment.events', owner: 'payment-service', partitions: 6 },
} as const;

export type TopicKey = keyof typeof TOPICS;
export type Topic = (typeof TOPICS)[TopicKey];
