import { runService } from '@shop/health';
import { loadServiceConfig } from './config';
import { startPaymentService } from './payment-service';

runService('payment-service', () => startPaymentService(loadServiceConfig()));
