/**
 * `GET /gantry/v1/logs`: a task's container log, streamed through the server from the agent that runs it
 * (ECS needs CloudWatch Logs for this; Gantry reads the runtime's own log). SigV4-signed (service `ecs`)
 * with an access key, like any API call.
 *
 *   ?cluster=C&task=ID|ARN[&container=NAME][&follow=1][&tail=N][&since=DURATION]
 *
 * The answer is chunked: `text/plain` (one line per line, stdout and stderr interleaved) or, with
 * `Accept: application/x-ndjson` or `&format=ndjson`, one LogRecord per line. How the stream ended comes in
 * the LOG_STATUS_TRAILER trailer: `ok`, or `error: <why>` (the agent disconnected, the container was removed).
 * Errors before the first line are ordinary HTTP errors with a JSON `{__type, message}` body.
 */

export const LOGS_PATH = '/gantry/v1/logs';
export const LOG_STATUS_TRAILER = 'X-Gantry-Log-Status';
export const NDJSON = 'application/x-ndjson';

/** One NDJSON line. */
export interface LogRecord {
  readonly stream: 'stdout' | 'stderr';
  /** ISO 8601, as the runtime stamped the line. */
  readonly time: string;
  readonly line: string;
}
