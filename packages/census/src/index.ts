// Placeholder: this package is not implemented yet (see its issue). It exports nothing
// rather than pretending to work.
export {};

// Analysis and report (issue 7).
export * from './analyze/index.js';
