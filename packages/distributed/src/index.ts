/**
 * `@forage/distributed`: the executors and the census across many machines, on BullMQ and
 * Redis.
 * @packageDocumentation
 */
export {
  censusJobGroup,
  censusQueueName,
  type DistributedCensusEvent,
  type DistributedCensusHooks,
  type DistributedCensusOptions,
  type DistributedCensusResult,
  runDistributedCensus,
} from './census-coordinator.js';
export type { LanguagesJob, ShardJob, ShardSlice } from './census-tasks.js';
export { type CensusWorkerOptions, runCensusWorker } from './census-worker.js';
export { decodeError, type EncodedError, encodeError } from './codec.js';
export {
  describeRedis,
  parseRedis,
  type RedisConnection,
  type RedisEndpoint,
} from './connection.js';
export { DistributedError, ErrorCode } from './errors.js';
export { defaultPrefix, defaultQueueName } from './protocol.js';
export { QueueExecutor, type QueueExecutorOptions } from './queue-executor.js';
export { type SharedBudget, SharedBudgetScheduler, tokenKey } from './shared-budget.js';
export {
  runTaskWorker,
  type TaskWorkerEvent,
  type TaskWorkerOptions,
  type TaskWorkerSummary,
} from './task-worker.js';
