import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { commands } from './commands/index.js';
import { UsageError } from './errors.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The version printed by `forage --version`. */
export const version: string = pkg.version;

/**
 * Builds the `forage` program with every registered subcommand. Commander is told not to
 * exit by itself: `main` decides the exit code and prints errors as one line.
 */
export function createProgram(): Command {
  const program = new Command('forage')
    .description('Concurrent data collection: a GitHub language census, blog scraping, executors')
    .version(version, '-V, --version', 'print the version and exit')
    .option('--debug', 'print stack traces for errors')
    .showSuggestionAfterError(true)
    // Options belong to the command they follow, so that `census export DIR --out X` is
    // export's --out, not census's (commander needs this on every level above `export`).
    // `--debug` may still come anywhere: main moves it to the front.
    .enablePositionalOptions()
    .exitOverride();
  program.configureHelp({ sortSubcommands: false });
  for (const register of commands) register(program);
  pointErrorsAtHelp(program);
  // With no subcommand, show help rather than silently succeeding; a word that is not a
  // subcommand is bad usage.
  program.allowExcessArguments(true).action(() => {
    const [word] = program.args;
    if (word !== undefined) {
      const known = program.commands.map((c) => c.name());
      const list = known.length ? known.join(', ') : 'none yet';
      throw new UsageError(
        `unknown command ${quoteWord(word)} (commands: ${list}; see forage --help)`,
      );
    }
    program.outputHelp();
  });
  return program;
}

/**
 * Commander's errors as one line that points at the help of the command that failed
 * (`forage census export --help`, not `forage --help`, for a flag `census export` lacks).
 */
function pointErrorsAtHelp(command: Command): void {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  const help = `${names.join(' ')} --help`;
  command.configureOutput({
    outputError: (message, write) => {
      write(`forage: ${withoutOptionValues(message.trim())} (see ${help})\n`);
    },
  });
  for (const sub of command.commands) pointErrorsAtHelp(sub);
}

/**
 * Commander's message without the value of an unknown `--option=value`: the option may be a
 * mistyped `--token=...`, and its value a token that must not land in a terminal or CI log.
 */
function withoutOptionValues(message: string): string {
  return message.replace(/'(--?[^\s'=]+)=[^']*'/g, "'$1=…'");
}

/**
 * An unknown command word as an error shows it: as it is when it could be a misspelt command;
 * otherwise only its length, since a long word there is more likely a token pasted in the
 * wrong place (GitHub's are 40 characters or more) than a command, and errors end up in logs.
 */
function quoteWord(word: string): string {
  if (/^[\w.:-]{1,32}$/.test(word) && !/^(gh[a-z]_|github_pat_)/.test(word)) return `'${word}'`;
  return `(a word of ${word.length} characters, not shown)`;
}
