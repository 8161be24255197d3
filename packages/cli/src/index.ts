export { commands, type RegisterCommand } from './commands/index.js';
export { ExitCode, forTerminal, oneLine, UsageError } from './errors.js';
export { main } from './main.js';
export { createProgram, version } from './program.js';
