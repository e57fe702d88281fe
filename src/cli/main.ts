/**
 * The `gantry` command. Each subcommand parses its own flags (node:util parseArgs), compiles them into a
 * typed config, and calls a composition root in src/app. `--help` works everywhere.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { VERSION } from '../app/server-app.js';
import { ConfigError } from '../config/server-config.js';
import { agentCommand } from './agent-command.js';
import { explainCommand } from './explain-command.js';
import { logsCommand } from './logs-command.js';
import { registryCommand } from './registry-command.js';
import { credentialsCommand, joinTokenCommand, serverCommand } from './server-command.js';
import { upCommand } from './up-command.js';

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number | void>;
}

const commands: Record<string, Command> = {
  up: upCommand,
  server: serverCommand('server'),
  credentials: credentialsCommand,
  'join-token': joinTokenCommand,
  agent: agentCommand,
  logs: logsCommand,
  explain: explainCommand,
  registry: registryCommand,
};

function mainHelp(): string {
  const rows = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(13)} ${c.summary}`);
  return [
    `gantry ${VERSION} — a self-hosted container orchestrator that speaks the Amazon ECS and ECR APIs`,
    '',
    'Usage: gantry <command> [options]',
    '',
    'Commands:',
    ...rows,
    '  version       Print the version',
    '',
    "Run 'gantry <command> --help' for a command's options.",
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(mainHelp());
    return name === undefined ? 1 : 0;
  }
  if (name === 'version' || name === '--version' || name === '-v') {
    console.log(VERSION);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`gantry: unknown command '${name}'.\n\n${mainHelp()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    console.error(`gantry ${name}: ${(e as Error).message}\n\n${cmd.usage}`);
    return 2;
  }
  if (parsed.values['help']) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    return (await cmd.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals)) ?? 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`gantry ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`gantry: ${(e as Error)?.stack ?? String(e)}`);
    process.exitCode = 1;
  },
);
