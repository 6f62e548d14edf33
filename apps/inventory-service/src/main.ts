import { runService } from '@shop/health';
import { loadServiceConfig } from './config';
import { startInventoryService } from './inventory-service';

runService('inventory-service', () => startInventoryService(loadServiceConfig()));
