/**
 * `GET /gantry/v1/logs` (src/protocol/logs.ts): a task's container log, relayed from its agent.
 *
 *   verify the signature (an access key; not an agent's or the join token) → resolve cluster, task and
 *   container from the store (404 / 400 with the task's containers) → open a stream on the instance's agent
 *   (503 when it is not connected) → the first batch, or the agent's refusal, decides the status → lines as
 *   they come → a trailer saying how the stream ended
 *
 * Each batch is acknowledged to the agent only once the response has taken it (at once, or on `drain`), so a
 * slow reader slows the agent's stream instead of piling lines up in the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/principals.js';
import type { IncomingSignedRequest } from '../auth/sigv4.js';
import { clusterNameOf } from '../api/ecs/resolve.js';
import { findTask } from '../api/ecs/task-view.js';
import type { Arns } from '../domain/arn.js';
import { ApiError } from '../domain/errors.js';
import type { LogLineFrame } from '../protocol/agent/messages.js';
import { LOG_STATUS_TRAILER, LOGS_PATH, NDJSON } from '../protocol/logs.js';
import type { LogRecord } from '../protocol/logs.js';
import type { EcsState } from '../state/ecs-state.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { AgentHub, LogStreamRequest } from './agent-hub.js';
import { parseDurationMs } from '../util/duration.js';

export interface LogsRouteDeps {
  readonly state: EcsState;
  readonly arns: Arns;
  readonly hub: Pick<AgentHub, 'openLogStream'>;
  /** Verifies the signature and returns who signed; throws ApiError (agents and the join token are refused). */
  readonly authenticate: (req: IncomingSignedRequest, signingName: string) => Principal;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long the agent may take to find the container. */
  readonly openTimeoutMs?: number;
}

/** Signature and permission failures: what AWS answers with 403. */
const FORBIDDEN = new Set([
  'AccessDeniedException',
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'SignatureDoesNotMatch',
]);

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export function logsRoute(deps: LogsRouteDeps) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if ((req.url ?? '').split('?')[0] !== LOGS_PATH) return false;
    req.resume();
    if (req.method !== 'GET') {
      fail(res, new HttpError(405, 'MethodNotAllowed', `Use GET ${LOGS_PATH}?cluster=…&task=…`));
      return true;
    }
    try {
      const plan = prepare(deps, req);
      stream(deps, req, res, plan);
    } catch (e) {
      if (e instanceof HttpError) fail(res, e);
      else if (e instanceof ApiError) fail(res, new HttpError(FORBIDDEN.has(e.code) ? 403 : e.status, e.code, e.message));
      else {
        deps.logger.error('log request failed', { error: e });
        fail(res, new HttpError(500, 'ServerException', 'The log request failed on the server.'));
      }
    }
    return true;
  };
}

interface Plan {
  readonly instanceArn: string;
  readonly request: LogStreamRequest;
  readonly ndjson: boolean;
}

function prepare(deps: LogsRouteDeps, req: IncomingMessage): Plan {
  const { state, arns } = deps;
  deps.authenticate({ method: 'GET', url: req.url ?? '/', headers: req.headersDistinct, body: Buffer.alloc(0) }, 'ecs');
  const q = new URL(req.url ?? '/', 'http://gantry').searchParams;
  const ref = q.get('task') ?? '';
  if (ref === '') throw new HttpError(400, 'InvalidParameterException', 'task is required: a task ID or ARN.');
  const follow = flag(q.get('follow'));
  const tail = q.get('tail');
  if (tail !== null && !/^\d{1,9}$/.test(tail)) throw new HttpError(400, 'InvalidParameterException', `tail must be a whole number of lines; got '${tail}'.`);
  const since = q.get('since');
  const sinceMs = since === null || since === '' ? undefined : parseSince(since, deps.clock.now());

  const cluster = clusterNameOf(arns, q.get('cluster') ?? undefined);
  if (cluster === undefined || state.cluster(cluster) === undefined) {
    throw new HttpError(404, 'ClusterNotFoundException', `Cluster ${q.get('cluster') ?? 'default'} was not found.`);
  }
  const task = findTask(state, arns, cluster, ref)?.value;
  if (task === undefined) throw new HttpError(404, 'ResourceNotFoundException', `Task ${ref} was not found in cluster ${cluster}.`);
  const names = task.containers.map((c) => c.name);
  const wanted = q.get('container');
  let container: string;
  if (wanted !== null && wanted !== '') {
    if (!names.includes(wanted)) {
      throw new HttpError(400, 'InvalidParameterException', `Task ${task.id} has no container named '${wanted}'; its containers are: ${names.join(', ')}.`);
    }
    container = wanted;
  } else if (names.length === 1) {
    container = names[0]!;
  } else {
    throw new HttpError(400, 'InvalidParameterException', `Task ${task.id} has ${names.length} containers (${names.join(', ')}); name one with container=NAME (gantry logs --container NAME).`);
  }
  if (task.containerInstanceArn === undefined) {
    throw new HttpError(400, 'InvalidParameterException', `Task ${task.id} was never placed on a container instance, so it has no log.`);
  }
  const accept = req.headers.accept ?? '';
  const format = q.get('format');
  return {
    instanceArn: task.containerInstanceArn,
    request: {
      taskArn: task.taskArn,
      container,
      follow,
      ...(tail !== null ? { tail: Number(tail) } : {}),
      ...(sinceMs !== undefined ? { sinceMs } : {}),
    },
    ndjson: format === 'ndjson' || format === 'json' || accept.includes(NDJSON),
  };
}

function stream(deps: LogsRouteDeps, req: IncomingMessage, res: ServerResponse, plan: Plan): void {
  let started = false;
  let over = false;
  const render = plan.ndjson ? ndjsonLine : textLine;
  const opened = deps.hub.openLogStream(plan.instanceArn, plan.request, {
    lines(lines: readonly LogLineFrame[], taken: () => void): void {
      if (over) return;
      if (!started) {
        started = true;
        clearTimeout(timer);
        res.writeHead(200, {
          'Content-Type': plan.ndjson ? `${NDJSON}; charset=utf-8` : 'text/plain; charset=utf-8',
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
          Trailer: LOG_STATUS_TRAILER,
        });
        res.flushHeaders();
      }
      if (lines.length === 0) return taken();
      let chunk = '';
      for (const l of lines) chunk += render(l);
      if (res.write(chunk)) taken();
      else res.once('drain', taken);
    },
    end(error?: string, channelLost?: boolean): void {
      if (over) return;
      over = true;
      clearTimeout(timer);
      if (!started) {
        // The agent could not open the log (the containers were removed, or not created yet).
        fail(res, channelLost === true ? new HttpError(503, 'AgentNotConnected', error ?? '') : new HttpError(404, 'ResourceNotFoundException', error ?? 'The log is empty.'));
        return;
      }
      res.addTrailers({ [LOG_STATUS_TRAILER]: error === undefined ? 'ok' : `error: ${error.replace(/[\r\n]+/g, ' ')}` });
      res.end();
    },
  });
  if ('refused' in opened) {
    over = true;
    fail(res, new HttpError(503, opened.refused, opened.message));
    return;
  }
  const timer = setTimeout(() => {
    if (started || over) return;
    over = true;
    opened.cancel();
    fail(res, new HttpError(504, 'AgentTimeout', `The agent of ${plan.instanceArn} did not answer the log request within ${Math.round((deps.openTimeoutMs ?? 15_000) / 1000)} s.`));
  }, deps.openTimeoutMs ?? 15_000);
  // The reader went away (Ctrl-C, a closed connection): the agent stops reading.
  res.on('close', () => {
    clearTimeout(timer);
    if (over) return;
    over = true;
    opened.cancel();
  });
  req.on('error', () => undefined);
}

function textLine(l: LogLineFrame): string {
  return l.line + '\n';
}

function ndjsonLine(l: LogLineFrame): string {
  const r: LogRecord = { stream: l.stream, time: new Date(l.time).toISOString(), line: l.line };
  return JSON.stringify(r) + '\n';
}

function flag(v: string | null): boolean {
  return v !== null && v !== '0' && v !== 'false';
}

/** `since`: a duration back from now (`90s`, `10m`, `2h`) or a point in time (RFC 3339). */
function parseSince(text: string, nowMs: number): number {
  const ago = parseDurationMs(text);
  if (ago !== undefined) return nowMs - ago;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new HttpError(400, 'InvalidParameterException', `since must be a duration like 10m or 2h, or a time like 2026-01-02T15:04:05Z; got '${text}'.`);
  return t;
}

function fail(res: ServerResponse, e: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ __type: e.type, message: e.message });
  res.writeHead(e.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'x-amzn-ErrorType': e.type });
  res.end(body);
}
