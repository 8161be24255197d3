#!/usr/bin/env node
import { main } from './main.js';

// A reader that stops early (`forage analyze DIR | head -1`) closes the pipe. What is left to
// print is dropped quietly, as other Unix tools do, instead of crashing with a stack trace; the
// command's work and exit code stand (a census goes on writing its files; forage scrape, whose
// output is stdout itself, stops on its own). Any other stream error is still fatal.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

process.exitCode = await main(process.argv);
