import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { IndexItem, Opener, OutputFormat, Post, ScrapeRun, Selectors } from '@forage/scrape';
import type { Command } from 'commander';
import { forTerminal, jsonFor, oneLine, UsageError } from '../errors.js';
import type { RegisterCommand } from './index.js';

// The package loads only when a scrape runs, so that `forage --help` and the other
// subcommands do not pay for the HTML parser and HTTP client.
const scrapePackage = () => import('@forage/scrape');

interface ScrapeFlags {
  out?: string;
  format?: string;
  maxPages?: string;
  concurrency: string;
  delayMs: string;
  selectors?: string;
  robots: boolean;
  open?: boolean;
}

/** What `forage scrape` talks to; tests replace the opener so that no browser is launched. */
export interface ScrapeDeps {
  opener: Opener;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Stops the scrape (Ctrl-C); by default SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

/** Builds the `forage scrape` registrar with the given dependencies. */
export function scrapeCommand(deps: Partial<ScrapeDeps> = {}): RegisterCommand {
  return (program: Command) => {
    program
      .command('scrape')
      .description(
        'scrape every post of a blog (index pages, pagination, posts) to JSON Lines or CSV',
      )
      .argument('<url>', "the blog's front page (or any index page)")
      .option(
        '--out <file>',
        'write posts here (default: stdout); a journal next to it makes the scrape resumable',
      )
      .option(
        '--format <format>',
        'jsonl or csv (default: from --out, else jsonl); a resumed --out must keep its format',
      )
      .option('--max-pages <n>', 'fetch at most N index and post pages')
      .option('--concurrency <n>', 'requests in flight per host', '8')
      .option('--delay-ms <n>', 'minimum milliseconds between requests to one host', '0')
      .option('--selectors <file>', 'JSON file of CSS selectors for sites that are not recognised')
      .option('--no-robots', 'ignore robots.txt (it is honoured by default)')
      .option(
        '--open',
        'write an HTML index of the posts and open it in the browser (prints its path where there is none)',
      )
      .action(async (url: string, flags: ScrapeFlags) => {
        await runScrape(url, flags, {
          opener: deps.opener ?? (await scrapePackage()).openInBrowser,
          stdout: deps.stdout ?? process.stdout,
          stderr: deps.stderr ?? process.stderr,
          ...(deps.signal ? { signal: deps.signal } : {}),
        });
      });
  };
}

/** `forage scrape URL`: the registrar used by the `forage` program. */
export const registerScrape: RegisterCommand = scrapeCommand();

function wholeNumber(
  flag: string,
  value: string | undefined,
  min: number,
  max?: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (
    !/^\d+$/.test(value.trim()) ||
    !Number.isSafeInteger(n) ||
    n < min ||
    (max !== undefined && n > max)
  ) {
    throw new UsageError(
      `${flag} must be a whole number >= ${min}${max !== undefined ? ` and <= ${max}` : ''}, got "${value}"`,
    );
  }
  return n;
}

function outputFormat(flags: ScrapeFlags): OutputFormat {
  const format = flags.format ?? (flags.out?.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  if (format !== 'jsonl' && format !== 'csv')
    throw new UsageError(`--format must be jsonl or csv, got "${format}"`);
  return format;
}

async function runScrape(url: string, flags: ScrapeFlags, deps: ScrapeDeps): Promise<void> {
  const format = outputFormat(flags);
  const {
    csvHeader,
    csvLine,
    existingOutputUrls,
    indexItem,
    loadSelectors,
    OutputWriter,
    readJournal,
    ScrapeError,
    scrapeBlog,
  } = await scrapePackage();
  const maxPages = wholeNumber('--max-pages', flags.maxPages, 1);
  const concurrency = wholeNumber('--concurrency', flags.concurrency, 1)!;
  // The longest a Node.js timer waits (about 24.8 days); a longer one fires after 1 ms.
  const delayMs = wholeNumber('--delay-ms', flags.delayMs, 0, 2 ** 31 - 1)!;
  let selectors: Selectors | undefined;
  if (flags.selectors) {
    try {
      selectors = await loadSelectors(flags.selectors);
    } catch (error) {
      throw new UsageError(`--selectors: ${(error as Error).message}`);
    }
  }
  if (flags.out !== undefined && !flags.out.trim())
    throw new UsageError(
      '--out is empty: give a file path such as posts.jsonl, or leave --out out for stdout',
    );
  const out = flags.out ? resolve(flags.out) : undefined;
  if (out && isDirectory(out))
    throw new UsageError(
      `--out ${flags.out} is a directory: give a file path, such as ${join(flags.out!, 'posts.jsonl')}`,
    );
  const journal = out ? `${out}.journal` : undefined;
  // The URL and options are checked before --out is touched: a typo in the URL used to leave an
  // empty --out behind (no journal), which the corrected command then refused to overwrite.
  // Nothing is fetched until the run is iterated.
  const controller = new AbortController();
  let run: ScrapeRun;
  try {
    run = scrapeBlog(url, {
      concurrency,
      delayMs,
      robots: flags.robots,
      signal: controller.signal,
      ...(maxPages !== undefined ? { maxPages } : {}),
      ...(selectors ? { selectors } : {}),
      ...(journal ? { journal } : {}),
    });
  } catch (error) {
    if (
      error instanceof ScrapeError &&
      (error.code === 'ERR_SCRAPE_BAD_URL' ||
        error.code === 'ERR_SCRAPE_BAD_OPTION' ||
        // --out's journal belongs to a scrape of another URL, or cannot be read: an --out that
        // cannot be resumed, refused before its posts are written again or "resuming" is said.
        error.code === 'ERR_SCRAPE_JOURNAL')
    ) {
      throw new UsageError(error.message);
    }
    throw error;
  }
  // One scrape at a time per --out: two would each append every post the other also writes.
  const unlock = out ? await lockOutput(out, flags.out!) : undefined;
  try {
    if (out && existsSync(out) && !existsSync(journal!)) {
      throw new UsageError(
        `${flags.out} already exists and has no journal (${journal}), so it is not a scrape to resume; choose another --out or delete it`,
      );
    }
    // Read before --out is opened (which creates it), so a journal that cannot be read leaves no
    // new file behind.
    const previous = journal ? readJournalSafely(() => readJournal(journal)) : null;

    // Posts already in the journal but missing from the output (a crash between the two
    // writes) are written first; posts already in the output are never written twice.
    // The HTML index lists every post in the output, by URL: those earlier runs wrote (read back
    // from the file, even ones the journal lost), then every post this run emits.
    const index = new Map<string, IndexItem>();
    const listed = flags.open
      ? (item: IndexItem) => {
          index.set(item.url, indexItem(item));
        }
      : undefined;
    const seen = out
      ? readOutputSafely(() => existingOutputUrls(out, format, listed), flags.out!, format)
      : new Set<string>();
    const writer = out ? openOutput(() => new OutputWriter(out, format), flags.out!) : null;
    let stdoutClosed = false;
    // Posts shown on a terminal (no --out, no pipe) are text from the network: as CSV a control
    // character in a title would reach the terminal as it is, and so would a C1 one (U+0080 to
    // U+009F, such as the one-byte CSI) as JSON, which escapes only those below U+0020.
    const onTerminal = (deps.stdout as { isTTY?: boolean }).isTTY === true;
    const emit = (post: Post) => {
      // Listed before the check below: a post already in --out is not written again, but it is
      // in the output, so it belongs in the index. The post itself (from the journal or this
      // run) replaces what was read back from a CSV file, whose cells may have been escaped.
      listed?.(post);
      if (seen.has(post.url)) return;
      seen.add(post.url);
      if (writer) writer.write(post);
      else if (!stdoutClosed)
        deps.stdout.write(
          format === 'csv'
            ? onTerminal
              ? forTerminal(csvLine(post))
              : csvLine(post)
            : `${jsonFor(deps.stdout as { isTTY?: boolean }, JSON.stringify(post))}\n`,
        );
    };
    if (previous) {
      for (const post of previous.posts.values()) emit(post);
      deps.stderr.write(
        `forage scrape: resuming from ${journal} (${previous.posts.size} posts already scraped)\n`,
      );
    } else if (!writer && format === 'csv') {
      deps.stdout.write(csvHeader());
    }

    const onSignal = () => controller.abort();
    // `forage scrape URL | head`: when the reader goes away, stop scraping instead of crashing.
    deps.stdout.on('error', (error: NodeJS.ErrnoException) => {
      stdoutClosed = true;
      if (error.code === 'EPIPE') controller.abort();
      else throw error;
    });
    if (deps.signal) deps.signal.addEventListener('abort', onSignal, { once: true });
    else {
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    try {
      for await (const post of run) emit(post);
    } finally {
      writer?.close();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
    deps.stderr.write(summaryLine(run, controller.signal.aborted, out));
    // Interrupted (Ctrl-C): the conventional 128 + SIGINT, so scripts can tell and run it again.
    if (controller.signal.aborted && !stdoutClosed) process.exitCode = 130;
    if (flags.open) await openIndex(url, out, [...index.values()], deps);
  } finally {
    await unlock?.();
  }
}

/** Whether `path` is a directory (false when it is missing or cannot be looked at). */
function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false; // ENOTDIR and friends: opening it for writing reports them (openOutput)
  }
}

/**
 * Takes `OUT.lock` so that a second scrape into the same --out, say a cron job that starts
 * before the last one ended, is refused instead of writing every post a second time. The lock is
 * the census's (`acquireLock`): a lock left by a killed scrape is taken over, by one run only.
 */
async function lockOutput(out: string, outFlag: string): Promise<() => Promise<void>> {
  const { acquireLock } = await import('@forage/census');
  const path = `${out}.lock`;
  const lock = await acquireLock(path, {
    held: (owner) =>
      new UsageError(
        `--out ${outFlag} is being written by another forage scrape${owner ? ` (process ${owner.pid}${owner.hostname === hostname() ? '' : ` on ${owner.hostname}`})` : ''}: wait for it to end, or choose another --out (${path} marks it; delete it if no scrape is running)`,
      ),
    unwritable: (error) => outputError(error, outFlag) as Error,
    contended: () =>
      new UsageError(
        `--out ${outFlag}: ${path} keeps being created by other scrapes; run one scrape at a time per --out`,
      ),
  });
  return () => lock.release();
}

/** Why a file cannot be opened for appending, for the errors that come from the path given. */
const UNWRITABLE: Record<string, string> = {
  ENOENT: 'its directory does not exist',
  ENOTDIR: 'a part of its path is not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
};

/**
 * Opens --out for appending. A path that cannot be written is a usage error (exit 2) naming
 * --out and the fix, rather than a bare "ENOENT ... open" failure; other errors (out of file
 * descriptors, say) are failures and pass through.
 */
function openOutput<T>(open: () => T, outFlag: string): T {
  try {
    return open();
  } catch (error) {
    throw outputError(error, outFlag);
  }
}

/** A usage error for a path that cannot be written; other errors as they are. */
function outputError(error: unknown, outFlag: string): unknown {
  const why = UNWRITABLE[(error as NodeJS.ErrnoException).code ?? ''];
  if (!why) return error;
  return new UsageError(
    `--out ${outFlag} cannot be written (${why}): create its directory or choose a writable path`,
  );
}

function readJournalSafely<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Reads the posts an earlier run left in --out. An output that cannot be resumed is a usage
 * error (exit 2) and is left as it is on disk: one in the other format (appending CSV to JSON
 * Lines would mix them), or one with a record that does not read (the message names its line).
 */
function readOutputSafely<T>(read: () => T, outFlag: string, format: OutputFormat): T {
  try {
    return read();
  } catch (error) {
    // The only option existingOutputUrls checks against the file is the format, and with two
    // formats the file holds the other one.
    if ((error as { code?: string }).code === 'ERR_SCRAPE_BAD_OPTION') {
      const other = format === 'csv' ? 'jsonl' : 'csv';
      throw new UsageError(
        `--format ${format} does not match ${outFlag}, which holds ${other} records from an earlier run: run again with --format ${other} to resume it, or choose another --out`,
      );
    }
    throw new UsageError((error as Error).message);
  }
}

function summaryLine(run: ScrapeRun, interrupted: boolean, out: string | undefined): string {
  const s = run.stats;
  const skipped = Object.entries(s.skipped)
    .map(([why, n]) => `${why} ${n}`)
    .join(', ');
  const lines = [
    `forage scrape: ${s.posts} posts${s.resumed ? ` (+${s.resumed} from before)` : ''} from ${s.pages} pages (${s.indexPages} index) in ${(s.elapsedMs / 1000).toFixed(1)} s; ${s.errors} errors; ${s.retries} retries; skipped ${skipped || 'none'}${out ? `; wrote ${out}` : ''}`,
  ];
  for (const e of s.errorSamples.slice(0, 5)) {
    lines.push(`  error: ${forTerminal(oneLine(`${e.url}: ${e.reason}`))}`);
  }
  // Pages that failed for now (5xx, timeouts): the journal keeps them to do, not done.
  if (s.failed > 0) {
    const pages = s.failed === 1 ? '1 page failed' : `${s.failed} pages failed`;
    lines.push(
      `  ${pages} for now (server or network errors)${out ? `: run the same command again to retry ${s.failed === 1 ? 'it' : 'them'}` : '; use --out FILE so that running it again retries them'}`,
    );
  }
  // Not complete only because of those pages is not "not finished".
  if (interrupted || s.skipped['max-pages']) {
    lines.push(
      out
        ? `  not finished${interrupted ? ' (interrupted)' : ' (--max-pages)'}: run the same command again to continue`
        : '  not finished: use --out FILE to make a scrape resumable',
    );
  }
  return `${lines.join('\n')}\n`;
}

async function openIndex(
  url: string,
  out: string | undefined,
  items: IndexItem[],
  deps: ScrapeDeps,
): Promise<void> {
  // Without --out, in a new directory of its own (mode 0700): a fixed-pattern name straight in
  // the shared temporary directory could be read by other users, or be a link planted there.
  const file = out
    ? `${out}.html`
    : join(mkdtempSync(join(tmpdir(), 'forage-scrape-')), 'index.html');
  const { htmlIndex } = await scrapePackage();
  // The URL as given may hold a user name and password (sent as a header, never written).
  const source = new URL(url);
  source.username = '';
  source.password = '';
  writeFileSync(file, htmlIndex(items, { source: source.href }));
  const opened = await deps.opener(file).catch(() => false);
  deps.stderr.write(
    opened ? `opened ${file}\n` : `no browser available; the index is at ${file}\n`,
  );
}
