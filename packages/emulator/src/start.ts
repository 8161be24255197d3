/** {@link startEmulator}: builds the dataset, starts the server, hands back a handle. */
import { BlogDataset, blogDefaultRates } from './blog.js';
import type { Dataset } from './dataset.js';
import { type EmulatorOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { EmulatorServer } from './server.js';
import type { EmulatorStats } from './stats.js';
import { SyntheticDataset, syntheticDefaultRates } from './synthetic.js';

/** A running emulator. */
export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:40123` (use it as octokit's `baseUrl`; GraphQL is `${url}/graphql`). */
  readonly url: string;
  /** What is being served: kind, repository count and id range. */
  readonly dataset: {
    kind: 'synthetic' | 'blog';
    repositories: number;
    startId: number;
    lastId: number;
  };
  /** Stops the server and drops open connections. Safe to call twice. */
  close(): Promise<void>;
  /** A snapshot of the counters (also served at `GET /_emulator/stats`). */
  stats(): EmulatorStats;
  /** For `await using emu = await startEmulator()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Builds the dataset the options describe (reads the file for `blog:PATH`). */
export async function createDataset(options: ResolvedOptions): Promise<Dataset> {
  const d = options.dataset;
  if (d.kind === 'blog') {
    return BlogDataset.load(d.path, options.seed, options.startId, {
      ...blogDefaultRates,
      ...options.repositoryRates,
    });
  }
  return new SyntheticDataset(options.seed, options.startId, d.repositories, {
    ...syntheticDefaultRates,
    ...options.repositoryRates,
  });
}

/**
 * Starts a GitHub REST + GraphQL emulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * const emu = await startEmulator({ dataset: 'synthetic:1000', tokens: ['t1'] });
 * const res = await fetch(`${emu.url}/repositories?since=0`, {
 *   headers: { authorization: 'token t1', 'user-agent': 'me' },
 * });
 * console.log(res.headers.get('link'), ((await res.json()) as unknown[]).length); // ...rel="next"..., 100
 * await emu.close();
 * ```
 * @throws EmulatorError `ERR_EMULATOR_OPTIONS` or `ERR_EMULATOR_DATASET` for bad options,
 *   `ERR_EMULATOR_LISTEN` when the port cannot be used.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const resolved = resolveOptions(options);
  const dataset = await createDataset(resolved);
  const server = new EmulatorServer(resolved, dataset);
  const url = await server.listen();
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= server.close();
    return closing;
  };
  return {
    url,
    dataset: {
      kind: dataset.kind,
      repositories: dataset.count,
      startId: dataset.startId,
      lastId: dataset.lastId,
    },
    close,
    stats: () => server.stats.snapshot(),
    [Symbol.asyncDispose]: close,
  };
}
