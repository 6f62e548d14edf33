import { runService } from '@shop/health';
import { loadServiceConfig } from './config';
import { startUserService } from './user-service';

runService('user-service', () => startUserService(loadServiceConfig()));
