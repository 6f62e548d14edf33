export { bootstrapService, runService, BODY_LIMIT_BYTES, type ServiceDefinition } from './bootstrap';
export {
  baseConfigShape,
  databaseConfigShape,
  kafkaConfigShape,
  loadConfig,
  port,
  ConfigError,
  type BaseConfig,
} from './config';
export { FaultInjector, faultsSchema, faultsShape, type Faults, type FaultDecision } from './fault-injection';
export { problem, PROBLEM_CONTENT_TYPE, type Problem } from './problem';
export type { ReadinessCheck, ReadinessDetail } from './readiness';
