/**
 * @forage/github-emulator: a loopback GitHub REST + GraphQL server that behaves like the real
 * one for the endpoints a language census uses. See README.md.
 */
export type { RepoState, RepositoryRates } from './dataset.js';
export { EmulatorError, type EmulatorErrorCode } from './errors.js';
export { emulatorSchemaSdl } from './graphql/schema.js';
export { type LanguageBytes, languageColor } from './language-model.js';
export {
  type ApiVersion,
  apiVersions,
  type DatasetOptions,
  type EmulatorOptions,
  type FaultKind,
  type FaultOptions,
  faultKinds,
  githubDefaults,
  type LatencyOptions,
  parseDatasetSpec,
  type RateLimitOptions,
  type RateWindow,
  type SecondaryLimitOptions,
  type TokenOptions,
} from './options.js';
export { parseDuration, parseFaults, parseLatency, parseRateWindow } from './specs.js';
export { type Emulator, startEmulator } from './start.js';
export type { ClientStats, EmulatorStats } from './stats.js';
