import { runService } from '@shop/health';
import { loadServiceConfig } from './config';
import { startGateway } from './gateway';

runService('gateway', () => startGateway(loadServiceConfig()));
