import { printable as label } from './format.js';
import type { Summary } from './summary.js';

/** A chart of the report: its file name (without extension), a title, and a Vega-Lite spec. */
export interface ChartSpec {
  name: string;
  title: string;
  /** What the chart shows, in one sentence (also its accessible description). */
  description: string;
  spec: Record<string, unknown>;
}

/** Fonts for the charts: the reader's system font in the browser, DejaVu Sans for the PNGs. */
export const CHART_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
const ROW_HEIGHT = 20;
const WIDTH = 420;

const CONFIG = {
  font: CHART_FONT,
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, labelLimit: 150, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, titleFontSize: 11 },
  title: { fontSize: 13, anchor: 'start' },
};

function base(title: string, description: string, height: number): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    description,
    width: WIDTH,
    height,
    config: CONFIG,
  };
}

interface Bar {
  label: string;
  value: number;
  color: string;
}

/** Horizontal bars in the given order, each in its language's colour. */
function bars(title: string, description: string, axis: string, integer: boolean, rows: Bar[]) {
  // Counts get whole-number ticks; sizes three significant digits whatever their magnitude.
  const format = integer ? ',d' : ',.3~r';
  // '~r' rather than '~g': d3's '~g' prints round ticks in exponent form (1e+1).
  const axisSpec = integer ? { format, tickMinStep: 1 } : { format: ',~r' };
  // Colours are taken from the data as they are (the `value` scale), so two languages sharing
  // a Linguist colour stay distinct bars.
  return {
    ...base(title, description, Math.max(ROW_HEIGHT, rows.length * ROW_HEIGHT)),
    data: { values: rows.map((r, i) => ({ ...r, order: i })) },
    layer: [
      {
        mark: { type: 'bar', stroke: '#444', strokeWidth: 0.5 },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: { field: 'order' }, title: null },
          x: { field: 'value', type: 'quantitative', title: axis, axis: axisSpec },
          color: { field: 'color', type: 'nominal', scale: null },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
        encoding: {
          y: { field: 'label', type: 'nominal', sort: { field: 'order' } },
          x: { field: 'value', type: 'quantitative' },
          text: { field: 'value', type: 'quantitative', format },
        },
      },
    ],
  };
}

/** Every chart the report draws from a summary, in reading order. */
export function chartSpecs(s: Summary, top: number): ChartSpec[] {
  const color = new Map(s.languages.map((l) => [l.name, l.color] as const));
  const colorOf = (name: string) => color.get(name) ?? '#9e9e9e';
  const charts: ChartSpec[] = [
    {
      name: 'study-total-size',
      title: 'Total size in GB',
      description: `The study's figure 1: the ${top} languages with the most bytes, in GB (bytes / 1024^3).`,
      spec: bars(
        'Total size in GB',
        'Sum of bytes per language',
        'GB',
        false,
        s.study.totalSize.map((r) => ({
          label: label(r.language),
          value: r.gigabytes,
          color: colorOf(r.language),
        })),
      ),
    },
    {
      name: 'study-repos',
      title: 'Repositories appeared in',
      description: `The study's figure 2: the ${top} languages found in the most repositories.`,
      spec: bars(
        'Repositories appeared in',
        'Count of repositories where the language appears',
        'repositories',
        true,
        s.study.reposAppearedIn.map((r) => ({
          label: label(r.language),
          value: r.repos,
          color: colorOf(r.language),
        })),
      ),
    },
    {
      name: 'study-mb-per-repo',
      title: 'Megabytes per repository (mean)',
      description: `The study's figure 3: the ${top} languages with the highest mean bytes per repository where present, in MB.`,
      spec: bars(
        'Megabytes per repository (mean)',
        'Sum of bytes divided by repositories, per language',
        'MB per repository',
        false,
        s.study.megabytesPerRepo.map((r) => ({
          label: label(r.language),
          value: r.megabytes,
          color: colorOf(r.language),
        })),
      ),
    },
    primaryChart(s, top),
    meanMedianChart(s, top),
    perRepoChart(s),
    heatmapChart(s),
  ];
  if (s.compare) charts.push(compareChart(s));
  return charts;
}

function byPrimary(s: Summary, top: number) {
  return [...s.languages].sort((a, b) => b.primary - a.primary).slice(0, top);
}

function primaryChart(s: Summary, top: number): ChartSpec {
  const rows = byPrimary(s, top).map((l, i) => ({
    label: label(l.name),
    share: l.primaryShare,
    lo: l.primaryShareInterval[0],
    hi: l.primaryShareInterval[1],
    color: l.color,
    order: i,
  }));
  const y = { field: 'label', type: 'nominal', sort: { field: 'order' }, title: null };
  return {
    name: 'primary-share',
    title: 'Primary language share',
    description:
      'Share of repositories whose largest language (by bytes) is this one, with 95% Wilson intervals.',
    spec: {
      ...base(
        'Primary language (most bytes), share of repositories',
        '95% Wilson intervals as whiskers',
        rows.length * ROW_HEIGHT,
      ),
      data: { values: rows },
      layer: [
        {
          mark: { type: 'bar', stroke: '#444', strokeWidth: 0.5 },
          encoding: {
            y,
            x: {
              field: 'share',
              type: 'quantitative',
              title: 'share of repositories with languages',
              axis: { format: '.0%' },
            },
            color: { field: 'color', type: 'nominal', scale: null },
          },
        },
        {
          mark: { type: 'rule', color: '#222' },
          encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } },
        },
      ],
    },
  };
}

/**
 * Dots per row on one axis, joined by a line from the smallest to the largest (a dumbbell):
 * `series` names which dot is which, with fixed colours (and shapes, if given).
 */
function dumbbell(
  values: { label: string; series: string; x: number; order: number }[],
  x: Record<string, unknown>,
  series: { domain: string[]; colors: string[]; shapes?: string[] },
  rule: string,
) {
  const y = { field: 'label', type: 'nominal', sort: { field: 'order' }, title: null };
  const legend = { orient: 'bottom', direction: 'horizontal' };
  return {
    data: { values },
    layer: [
      {
        mark: { type: 'rule', color: rule },
        encoding: {
          y,
          x: { aggregate: 'min', field: 'x', type: 'quantitative' },
          x2: { aggregate: 'max', field: 'x' },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          y,
          x: { field: 'x', type: 'quantitative', ...x },
          color: {
            field: 'series',
            type: 'nominal',
            title: null,
            scale: { domain: series.domain, range: series.colors },
            legend,
          },
          ...(series.shapes
            ? {
                shape: {
                  field: 'series',
                  type: 'nominal',
                  scale: { domain: series.domain, range: series.shapes },
                },
              }
            : {}),
        },
      },
    ],
  };
}

function meanMedianChart(s: Summary, top: number): ChartSpec {
  const langs = s.languages.slice(0, top);
  const values = langs.flatMap((l, order) => [
    { label: label(l.name), series: 'median', x: Math.max(1, l.medianBytes), order },
    { label: label(l.name), series: 'mean (the study)', x: Math.max(1, l.meanBytes), order },
    { label: label(l.name), series: '90th percentile', x: Math.max(1, l.p90Bytes), order },
  ]);
  return {
    name: 'mean-vs-median',
    title: 'Bytes per repository: mean versus median',
    description:
      'For the most common languages: the median, 90th percentile and mean bytes per repository where the language appears (log scale).',
    spec: {
      ...base(
        'Bytes per repository where present (log scale)',
        'median, p90 and mean',
        langs.length * ROW_HEIGHT,
      ),
      ...dumbbell(
        values,
        // With no language (a census where every request failed) Vega has no domain to
        // draw and labels the axis NaN: a fixed one keeps the empty chart readable.
        {
          scale: { type: 'log', ...(langs.length === 0 ? { domain: [1, 1024] } : {}) },
          title: 'bytes',
          axis: { format: '~s' },
        },
        {
          domain: ['median', '90th percentile', 'mean (the study)'],
          colors: ['#1b7837', '#2166ac', '#b2182b'],
          shapes: ['circle', 'triangle-right', 'diamond'],
        },
        '#bbb',
      ),
    },
  };
}

function perRepoChart(s: Summary): ChartSpec {
  const cap = 15;
  const counts = new Map<string, number>();
  for (const h of s.overall.languagesPerRepo.histogram) {
    const key = h.languages > cap ? `${cap + 1}+` : String(h.languages);
    counts.set(key, (counts.get(key) ?? 0) + h.repos);
  }
  const values = [...counts].map(([k, repos], order) => ({ k, repos, order }));
  return {
    name: 'languages-per-repo',
    title: 'Languages per repository',
    description: 'How many repositories (with at least one language) have 1, 2, 3, ... languages.',
    spec: {
      ...base('Languages per repository', 'repositories by number of languages', 200),
      data: { values },
      mark: { type: 'bar', color: '#4c78a8' },
      encoding: {
        x: {
          field: 'k',
          type: 'ordinal',
          sort: { field: 'order' },
          title: 'languages in the repository',
          axis: { labelAngle: 0 },
        },
        y: {
          field: 'repos',
          type: 'quantitative',
          title: 'repositories',
          axis: { format: '~s', tickMinStep: 1 },
          // No repository with languages: an axis from 0, not one labelled NaN.
          ...(values.length === 0 ? { scale: { domain: [0, 1] } } : {}),
        },
      },
    },
  };
}

function heatmapChart(s: Summary): ChartSpec {
  const m = s.cooccurrence;
  const values = m.languages
    .flatMap((a, i) =>
      m.languages.map((b, j) => ({
        a: label(a),
        b: label(b),
        i,
        j,
        repos: i === j ? null : m.repos[i]![j]!,
        lift: i === j ? null : m.lift[i]![j]!,
      })),
    )
    .filter((v) => v.i !== v.j);
  const side = Math.max(120, m.languages.length * 34);
  const axisSort = { field: 'i' };
  return {
    name: 'cooccurrence',
    title: 'Languages that appear together',
    description:
      'For the most common languages: repositories with both (number in each cell) and lift (colour: above 1 means together more often than chance).',
    spec: {
      ...base(
        'Appear together: repositories with both; colour = lift',
        'lift = observed / expected if independent',
        side,
      ),
      width: side,
      data: { values },
      encoding: {
        x: { field: 'a', type: 'nominal', sort: axisSort, title: null, axis: { labelAngle: -45 } },
        y: { field: 'b', type: 'nominal', sort: { field: 'j' }, title: null },
      },
      layer: [
        {
          mark: 'rect',
          encoding: {
            color: {
              field: 'lift',
              type: 'quantitative',
              title: 'lift',
              scale: {
                scheme: 'blueorange',
                domainMid: 1,
                domain: [0, Math.max(2, ...values.map((v) => Math.min(v.lift ?? 0, 6)))],
                clamp: true,
              },
            },
          },
        },
        {
          mark: { type: 'text', fontSize: 9 },
          encoding: {
            text: { field: 'repos', type: 'quantitative', format: '.2~s' },
            color: { value: '#111' },
          },
        },
      ],
    },
  };
}

function compareChart(s: Summary): ChartSpec {
  const c = s.compare!;
  const values = c.rows.flatMap((r, order) => [
    { label: label(r.name), series: 'baseline', x: r.baseReposShare, order },
    { label: label(r.name), series: 'this census', x: r.reposShare, order },
  ]);
  return {
    name: 'compare',
    title: 'Compared with the baseline',
    description: 'Share of repositories where each language appears: baseline versus this input.',
    spec: {
      ...base(
        'Share of repositories: baseline -> this input',
        'dumbbell chart',
        c.rows.length * ROW_HEIGHT,
      ),
      ...dumbbell(
        values,
        { title: 'share of repositories with languages', axis: { format: '.0%' } },
        { domain: ['baseline', 'this census'], colors: ['#999999', '#d6604d'] },
        '#999',
      ),
    },
  };
}

/**
 * Renders a Vega-Lite spec to an SVG string, headless (no browser, no canvas). The same spec
 * gives the same bytes, whatever was rendered before in the process.
 */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  // Vega-Lite's warnings (such as merged sort orders in layers) are about our own specs, not
  // the data: keep them off the user's terminal.
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0], {
    logger: vega.logger(vega.None),
  }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    // Vega numbers gradients and clip paths (`gradient_0`, `clip1`) with counters that live as
    // long as the process: without a reset a second report in the same process (or the second
    // chart with a legend) got other ids, and so other bytes. Reset once the dataflow has run,
    // just before the drawing that assigns them.
    await view.runAsync();
    vega.resetSVGDefIds();
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders an SVG to PNG at twice its size with resvg, using DejaVu Sans for text. Runs on
 * libuv's thread pool, so several charts render in parallel off the main thread.
 */
export async function renderPng(svg: string): Promise<Buffer> {
  const { renderAsync } = await import('@resvg/resvg-js');
  const image = await renderAsync(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: {
      loadSystemFonts: true,
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
  });
  return image.asPng();
}
