import { runService } from '@shop/health';
import { loadServiceConfig } from './config';
import { startOrderService } from './order-service';

runService('order-service', () => startOrderService(loadServiceConfig()));
