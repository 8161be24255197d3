/**
 * Stable error codes raised by the census. Every error the library throws is a
 * {@link CensusError} whose `code` is one of these, and whose message is one line that names
 * the input at fault and how to fix it. Messages never contain a token.
 */
export type CensusErrorCode =
  /** An option had a bad value (exit 2 in the CLI). */
  | 'ERR_CENSUS_OPTION'
  /** The API could not be reached, or kept failing, so the census cannot go on. */
  | 'ERR_CENSUS_API'
  /** A token was rejected (401): revoked, expired or mistyped. */
  | 'ERR_CENSUS_TOKEN'
  /** The output directory holds a census made with different options, or is unusable. */
  | 'ERR_CENSUS_OUTPUT'
  /** Writing a journal failed (for example the disk is full). */
  | 'ERR_CENSUS_WRITE'
  /** A response broke the protocol in a way retrying cannot fix. */
  | 'ERR_CENSUS_PROTOCOL'
  /** The run was aborted through its signal. */
  | 'ERR_CENSUS_ABORTED';

/** An error raised by the census, with a stable {@link CensusErrorCode}. */
export class CensusError extends Error {
  override name = 'CensusError';
  readonly code: CensusErrorCode;

  constructor(code: CensusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `error` is a {@link CensusError}, optionally with the given code. */
export function isCensusError(error: unknown, code?: CensusErrorCode): error is CensusError {
  return error instanceof CensusError && (code === undefined || error.code === code);
}

/** The message of any thrown value, on one line. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
