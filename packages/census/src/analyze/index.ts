export { type AnalyzeOptions, analyze, splitRanges } from './analyze.js';
export { type ChartSpec, chartSpecs, renderPng, renderSvg } from './charts.js';
export { type LanguageColor, languageColor, NEUTRAL_COLOR } from './colors.js';
export { compareSummaries } from './compare.js';
export { AnalyzeError, type AnalyzeErrorCode } from './errors.js';
export { type RenderedChart, reportHtml } from './html.js';
export type { AnalyzeInput } from './input.js';
export {
  type InputFormat,
  mergePartials,
  type PartialAggregate,
  type StatusCounts,
} from './partial.js';
export { aggregateRange, type RangeTask } from './range.js';
export {
  type ReportFiles,
  type ReportOptions,
  type ReportResult,
  report,
  writeReport,
} from './report.js';
export type { QuantileSketch } from './sketch.js';
export { wilsonInterval } from './stats.js';
export {
  type Comparison,
  type ComparisonRow,
  type CooccurrenceMatrix,
  type InputSummary,
  type LanguageSummary,
  type OverallSummary,
  type PairSummary,
  type StudyFigures,
  type StudyRow,
  SUMMARY_SCHEMA,
  type Summary,
} from './summary.js';
export { formatSummaryTable } from './table.js';
