// Collection (issue 6): list repositories, fetch their languages, journal, resume.

// Analysis and report (issue 7).
export * from './analyze/index.js';
export {
  type ApiKind,
  type BudgetLimits,
  githubLimits,
  PrimaryBucket,
  parseRateHeaders,
  type RateHeaders,
  SlidingWindow,
  TokenBudget,
} from './budget.js';
export {
  type BucketView,
  type CensusEvent,
  type CensusHooks,
  type CensusProgress,
  type CensusResult,
  readStoredPlan,
  runCensus,
  type StoredPlan,
  type TokenView,
} from './census.js';
export {
  ApiClient,
  type ApiResponse,
  defaultRetry,
  type RetryPolicy,
  TokensRejected,
} from './client.js';
export {
  type ForksMode,
  keepRepo,
  type ListingPage,
  listingPage,
  type ShardDone,
} from './enumerate.js';
export { CensusError, type CensusErrorCode, isCensusError } from './errors.js';
export { type ExportFormat, type ExportResult, exportCensus } from './export.js';
export { atomicWriter, censusFiles, censusPaths, writeAtomic } from './files.js';
export { type CensusCounts, dropErrorRecords } from './finalize.js';
export { batchBody, batchQuery, maxBatch, parseBatch, parsePage } from './graphql.js';
export { forEachLine, Journal, JournalTail, readLines } from './journal.js';
export { languagesBatch, restLanguages, type Via } from './languages.js';
export { type LinkEntry, type NextLink, nextLink, parseLinkHeader } from './link.js';
export { scanListing } from './listing.js';
export {
  acquireLock,
  type CensusLock,
  type FileLock,
  type LockErrors,
  type LockOwner,
  lockCensus,
  lockFile,
} from './lock.js';
export { type CensusManifest, type CensusRun, censusVersion, readManifest } from './manifest.js';
export { type CensusOptions, isLoopback, parseApiUrl, resolveOptions } from './options.js';
export { makePlan, type ShardPlan, shardOf, shardRange } from './plan.js';
export {
  failureRecord,
  type LanguageRecord,
  type LanguageStatus,
  languageStatuses,
  languagesRecord,
  type RepoRecord,
  repoFromListing,
} from './records.js';
export {
  BudgetScheduler,
  type Lease,
  type SchedulerWait,
  TokenRetired,
} from './scheduler.js';
export { redactToken, scrubTokens, tokenPositions, tokensFrom } from './token.js';
