import { runService } from '@shop/health';
import { loadServiceConfig } from './config';
import { startPaymentProvider } from './payment-provider';

runService('payment-provider', () => startPaymentProvider(loadServiceConfig()));
