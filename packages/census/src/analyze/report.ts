import { constants } from 'node:fs';
import { access, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type AnalyzeOptions, analyze } from './analyze.js';
import { chartSpecs, renderPng, renderSvg } from './charts.js';
import { AnalyzeError } from './errors.js';
import { reportHtml } from './html.js';
import type { AnalyzeInput } from './input.js';
import type { Summary } from './summary.js';

export interface ReportOptions extends AnalyzeOptions {
  /** Where to write summary.json, report.html and charts/ (created if missing). */
  outDir: string;
  /** Also write charts/*.png (default true). */
  png?: boolean;
}

/** The files a report wrote, as absolute paths. */
export interface ReportFiles {
  summary: string;
  html: string;
  /** charts/*.svg and charts/*.png */
  charts: string[];
}

export interface ReportResult {
  summary: Summary;
  files: ReportFiles;
}

/**
 * Analyses an input and writes the report: `summary.json`, a self-contained `report.html`,
 * and each chart as `charts/NAME.svg` and `charts/NAME.png`. Files are written to a temporary
 * name and renamed, so a reader never sees half a report.
 *
 * @example
 * ```ts
 * import { report } from '@forage/census';
 * const { files } = await report('census-out', { outDir: 'census-out', compare: 'lang_data.jsonl' });
 * console.log(`open ${files.html}`);
 * ```
 */
export async function report(input: AnalyzeInput, options: ReportOptions): Promise<ReportResult> {
  if (typeof options?.outDir !== 'string' || options.outDir === '') {
    throw new AnalyzeError(
      'ERR_ANALYZE_OPTION',
      'report needs outDir: the directory to write report.html into',
    );
  }
  const outDir = resolve(options.outDir);
  const top = options.top ?? 10;
  // Before the analysis, which can take minutes: an unusable directory fails at once. Checked,
  // not created: a run that then fails (a mistyped input) leaves no empty report behind.
  await checkOutDir(outDir);
  const summary = await analyze(input, options);
  return writeReport(summary, outDir, top, options.png ?? true);
}

/** Writes the report files for a summary that was already computed. */
export async function writeReport(
  summary: Summary,
  outDir: string,
  top = 10,
  png = true,
): Promise<ReportResult> {
  const chartsDir = await makeChartsDir(outDir);
  const specs = chartSpecs(summary, top);
  const charts = [];
  const files: string[] = [];
  const pngs: Promise<void>[] = [];
  for (const spec of specs) {
    // Vega renders on this thread, one chart at a time; the PNGs render in the background.
    const svg = await renderSvg(spec.spec);
    charts.push({ name: spec.name, title: spec.title, description: spec.description, svg });
    const svgFile = join(chartsDir, `${spec.name}.svg`);
    await writeAtomic(svgFile, svg);
    files.push(svgFile);
    if (png) {
      const pngFile = join(chartsDir, `${spec.name}.png`);
      files.push(pngFile);
      pngs.push(renderPng(svg).then((data) => writeAtomic(pngFile, data)));
    }
  }
  await Promise.all(pngs);
  const summaryFile = join(outDir, 'summary.json');
  await writeAtomic(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  const htmlFile = join(outDir, 'report.html');
  await writeAtomic(htmlFile, reportHtml(summary, charts, top));
  return { summary, files: { summary: summaryFile, html: htmlFile, charts: files } };
}

/**
 * Fails as {@link makeChartsDir} would, without creating anything: the nearest part of
 * `outDir/charts` that exists must be a directory, writable unless it is `charts` itself.
 */
async function checkOutDir(outDir: string): Promise<void> {
  const chartsDir = join(outDir, 'charts');
  for (let path = chartsDir; ; path = dirname(path)) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw outDirError(outDir, chartsDir, error);
    });
    if (info === null) {
      if (dirname(path) === path) return;
      continue;
    }
    if (!info.isDirectory()) throw outDirError(outDir, chartsDir, { code: 'ENOTDIR' });
    if (path !== chartsDir) {
      await access(path, constants.W_OK).catch((error: unknown) => {
        throw outDirError(outDir, chartsDir, error);
      });
    }
    return;
  }
}

/**
 * Creates `outDir/charts`. A path that cannot be a directory (a file is in the way, no
 * permission) is the caller's to fix, so it is an `ERR_ANALYZE_OPTION` naming it.
 */
async function makeChartsDir(outDir: string): Promise<string> {
  const chartsDir = join(outDir, 'charts');
  try {
    await mkdir(chartsDir, { recursive: true });
  } catch (error) {
    throw outDirError(outDir, chartsDir, error);
  }
  return chartsDir;
}

/**
 * The user's to fix when a file is in the way or permission is lacking: an
 * `ERR_ANALYZE_OPTION` naming it. Any other error is returned as it is.
 */
function outDirError(outDir: string, chartsDir: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code !== 'ENOTDIR' && code !== 'EEXIST' && code !== 'EACCES' && code !== 'EPERM') {
    return error;
  }
  return new AnalyzeError(
    'ERR_ANALYZE_OPTION',
    `--out ${outDir}: cannot create ${chartsDir} (${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : 'a file is in the way'}); choose a new or existing directory for the report`,
  );
}

async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}
