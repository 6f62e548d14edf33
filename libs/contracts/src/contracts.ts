import { INVENTORY_COMMAND_UPCASTERS, INVENTORY_COMMANDS, SUPERSEDED_INVENTORY_COMMANDS } from './inventory.commands';
import { INVENTORY_EVENTS } from './inventory.events';
import { ORDER_EVENTS } from './order.events';
import { PAYMENT_COMMANDS } from './payment.commands';
import { PAYMENT_EVENTS } from './payment.events';
import { createRegistry } from './registry';

/** Every message of the place-order saga, current version of each type. */
export const CURRENT_MESSAGES = [
  ...ORDER_EVENTS,
  ...INVENTORY_COMMANDS,
  ...INVENTORY_EVENTS,
  ...PAYMENT_COMMANDS,
  ...PAYMENT_EVENTS,
] as const;

export type CurrentMessageDefinition = (typeof CURRENT_MESSAGES)[number];
export type MessageType = CurrentMessageDefinition['type'];

/** The registry readEnvelope uses unless told otherwise. */
export const contracts = createRegistry({
  current: CURRENT_MESSAGES,
  superseded: [...SUPERSEDED_INVENTORY_COMMANDS],
  upcasters: [...INVENTORY_COMMAND_UPCASTERS],
});
