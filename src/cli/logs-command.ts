/**
 * `gantry logs TASK`: a task's container log, streamed through the server from the agent that runs it
 * (src/protocol/logs.ts). Signs the request with an access key (the AWS_* environment, else the root key in
 * the server's data directory, as `gantry credentials` prints it), asks for NDJSON, and prints each line as it
 * comes: stdout lines to stdout, stderr lines to stderr. Exits when the stream ends; Ctrl-C cancels it.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { signRequest } from '../auth/sigv4-sign.js';
import type { SigningCredentials } from '../auth/sigv4-sign.js';
import { ConfigError } from '../config/server-config.js';
import { CLIENT_FLAGS_HELP, CLIENT_OPTIONS, clientTarget } from './client-options.js';
import { LOG_STATUS_TRAILER, LOGS_PATH, NDJSON } from '../protocol/logs.js';
import type { LogRecord } from '../protocol/logs.js';
import type { Command } from './main.js';

const USAGE = `Usage: gantry logs TASK [--cluster C] [--container NAME] [--follow] [--tail N] [--since DURATION]

Prints the log of a task's container, read through the Gantry server from the agent that runs the task
(no CloudWatch needed). stdout lines go to stdout and stderr lines to stderr, as they come. With --follow the
command keeps printing until the container stops; Ctrl-C stops it sooner.

Arguments:
  TASK                  Task ID or ARN

Options:
  --cluster C           The task's cluster (default default)
  --container NAME      Which container; needed when the task has more than one
  -f, --follow          Keep printing new lines until the container stops
  --tail N              Only the last N lines already written
  --since DURATION      Only lines from this long ago on (90s, 10m, 2h) or since a time (RFC 3339)
  --json                Print one JSON object per line: {"stream","time","line"}
${CLIENT_FLAGS_HELP}
  -h, --help            Show this help`;

const OPTIONS = {
  cluster: { type: 'string' },
  container: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  tail: { type: 'string' },
  since: { type: 'string' },
  json: { type: 'boolean' },
  ...CLIENT_OPTIONS,
} as const;

interface LogsOptions {
  readonly url: URL;
  readonly region: string;
  readonly credentials: SigningCredentials;
  readonly json: boolean;
}

export const logsCommand: Command = {
  summary: "Print a task's container log (through the server, from its agent)",
  usage: USAGE,
  options: OPTIONS,
  async run(values, positionals) {
    const opts = compile(values, positionals, process.env);
    return streamLogs(opts);
  },
};

function compile(values: Record<string, string | boolean | undefined>, positionals: string[], env: NodeJS.ProcessEnv): LogsOptions {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' && values[k] !== '' ? (values[k] as string) : undefined);
  if (positionals.length !== 1) throw new ConfigError(`give exactly one task ID or ARN.\n\n${USAGE}`);
  const tail = str('tail');
  if (tail !== undefined && !/^\d+$/.test(tail)) throw new ConfigError(`--tail must be a whole number of lines; got '${tail}'.`);
  const target = clientTarget(values, env);
  const url = new URL(LOGS_PATH, target.endpoint);
  const query: [string, string | undefined][] = [
    ['task', positionals[0]],
    ['cluster', str('cluster')],
    ['container', str('container')],
    ['follow', values['follow'] === true ? '1' : undefined],
    ['tail', tail],
    ['since', str('since')],
  ];
  for (const [k, v] of query) if (v !== undefined) url.searchParams.set(k, v);
  return {
    url,
    region: target.region,
    credentials: target.credentials,
    json: values['json'] === true,
  };
}

async function streamLogs(opts: LogsOptions): Promise<number> {
  const headers = signRequest(
    { method: 'GET', url: opts.url.toString(), headers: { accept: NDJSON } },
    { service: 'ecs', region: opts.region, credentials: opts.credentials, nowMs: Date.now() },
  );
  const client = opts.url.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve) => {
    let interrupted = false;
    const req = client.request(opts.url, { method: 'GET', headers });
    const onSignal = (): void => {
      // The server sees the connection close and tells the agent to stop reading.
      interrupted = true;
      req.destroy();
      finish(130);
    };
    // A reader that stops reading (`| head`) ends the stream quietly, as it would for `docker logs`.
    const onClosedOutput = (): void => {
      interrupted = true;
      req.destroy();
      finish(0);
    };
    const finish = (code: number): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('error', onClosedOutput);
      resolve(code);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.stdout.on('error', onClosedOutput);
    req.on('error', (e) => {
      if (interrupted) return;
      process.stderr.write(`gantry logs: cannot reach ${opts.url.origin}: ${e.message}\n`);
      finish(1);
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        void failure(res).then((message) => {
          process.stderr.write(`gantry logs: ${message}\n`);
          finish(1);
        });
        return;
      }
      void printLines(res, opts.json).then(
        () => {
          if (interrupted) return;
          const status = res.trailers[LOG_STATUS_TRAILER.toLowerCase()];
          if (status === 'ok') return finish(0);
          process.stderr.write(
            status === undefined ? 'gantry logs: the connection to the server was cut before the log ended.\n' : `gantry logs: ${status.replace(/^error: /, '')}\n`,
          );
          finish(1);
        },
        (e: unknown) => {
          if (interrupted) return;
          process.stderr.write(`gantry logs: the log stream failed: ${(e as Error).message}\n`);
          finish(1);
        },
      );
    });
    req.end();
  });
}

/** Prints each NDJSON record as it arrives, holding the response back while stdout is full. */
async function printLines(res: IncomingMessage, json: boolean): Promise<void> {
  const lines = createInterface({ input: res, crlfDelay: Infinity });
  let aborted = false;
  res.on('aborted', () => (aborted = true));
  for await (const text of lines) {
    if (text === '') continue;
    let out: NodeJS.WriteStream;
    let line: string;
    if (json) {
      out = process.stdout;
      line = text;
    } else {
      const r = JSON.parse(text) as LogRecord;
      out = r.stream === 'stderr' ? process.stderr : process.stdout;
      line = r.line;
    }
    if (!out.write(line + '\n')) await new Promise((r) => out.once('drain', r));
  }
  if (aborted) throw new Error('the server closed the connection');
}

async function failure(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    const body = JSON.parse(text) as { __type?: string; message?: string };
    if (body.message) return body.message;
  } catch {
    // not JSON: show what came
  }
  return `the server answered HTTP ${res.statusCode}${text ? `: ${text.slice(0, 500)}` : ''}`;
}
