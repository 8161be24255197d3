/** What `forage bench` runs: the workloads, their sizes and the modes that run them. */

export type Workload = 'cpu' | 'io';
export type Size = 'small' | 'medium' | 'large';
export type NodeMode = 'sequential' | 'async' | 'threads' | 'processes';
export type PythonMode = 'python-sequential' | 'python-threads' | 'python-processes';
export type Mode = NodeMode | PythonMode;

export const workloads: readonly Workload[] = ['cpu', 'io'];
export const sizeNames: readonly Size[] = ['small', 'medium', 'large'];
export const nodeModes: readonly NodeMode[] = ['sequential', 'async', 'threads', 'processes'];
export const pythonModes: readonly PythonMode[] = [
  'python-sequential',
  'python-threads',
  'python-processes',
];

/** How long the loopback server waits before answering each GET, as in the issue. */
export const ioDelayMs = 50;

export interface SizeSpec {
  /** The `n` of each sum-of-primes task (the CPU workload). */
  readonly primes: readonly number[];
  /** How many GETs the I/O workload makes. */
  readonly requests: number;
  /** Runs per mode; the table shows the median. */
  readonly repeats: number;
}

function steps(from: number, to: number, count: number): number[] {
  const step = (to - from) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(from + i * step));
}

/**
 * `medium` is the blog's seed workload (16 values of n from 100,000 to 400,000; the primes below
 * them sum to 46,974,496,440). `small` finishes in a blink; `large` is heavy enough that pool
 * start-up no longer matters.
 */
export const sizes: Readonly<Record<Size, SizeSpec>> = {
  small: { primes: steps(20_000, 90_000, 8), requests: 32, repeats: 3 },
  medium: { primes: steps(100_000, 400_000, 16), requests: 128, repeats: 5 },
  large: { primes: steps(200_000, 800_000, 16), requests: 512, repeats: 3 },
};
