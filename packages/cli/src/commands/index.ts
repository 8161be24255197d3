import type { Command } from 'commander';
import { registerAnalyze } from './analyze.js';
import { registerBench } from './bench.js';
import { registerCensus } from './census.js';
import { registerCensusWorker } from './census-worker.js';
import { registerEmulator } from './emulator.js';
import { registerScrape } from './scrape.js';
import { registerWorker } from './worker.js';

/**
 * Each capability registers its subcommand from its own file in this folder.
 * A registrar adds one subcommand (with its options and action) to the program.
 */
export type RegisterCommand = (program: Command) => void;

/** The subcommands that exist, in the order `forage --help` lists them. */
export const commands: RegisterCommand[] = [
  registerCensus,
  registerAnalyze,
  registerScrape,
  registerBench,
  registerWorker,
  registerCensusWorker,
  registerEmulator,
];
