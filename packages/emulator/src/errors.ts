/** Stable codes for the errors this package raises. */
export type EmulatorErrorCode =
  | 'ERR_EMULATOR_OPTIONS'
  | 'ERR_EMULATOR_DATASET'
  | 'ERR_EMULATOR_LISTEN';

/**
 * An error raised by the emulator itself (bad options, an unreadable dataset). Its message
 * names the input that was wrong and how to fix it; `code` is stable.
 */
export class EmulatorError extends Error {
  override name = 'EmulatorError';
  readonly code: EmulatorErrorCode;
  constructor(code: EmulatorErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
