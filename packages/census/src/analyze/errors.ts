/** Stable codes of the errors the analysis raises. */
export type AnalyzeErrorCode =
  /** The input path does not exist or is not the kind of thing expected. */
  | 'ERR_ANALYZE_INPUT'
  /** The input exists but is not in the format expected (no line could be read). */
  | 'ERR_ANALYZE_FORMAT'
  /** An option has a value that cannot work. */
  | 'ERR_ANALYZE_OPTION';

/** An error from `analyze` or `report`; the message names the input and the fix. */
export class AnalyzeError extends Error {
  override name = 'AnalyzeError';
  constructor(
    readonly code: AnalyzeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
