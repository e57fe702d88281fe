/**
 * The agent channel: a WebSocket between each agent and the server (`GET /agent/v1/channel`, SigV4-signed
 * upgrade with the instance's own credentials). JSON text frames, one message each.
 *
 * Level-triggered both ways: the server always sends the *whole* desired task set of the instance (on
 * connect and on every change), never a delta; the agent reconciles its runtime toward it and reports each
 * transition. Reports are numbered by the agent and kept on its disk until the server acknowledges them
 * (after they are durable in the store), so a disconnect or restart on either side loses nothing: the agent
 * re-sends what was not acknowledged, and the server applies reports idempotently.
 *
 * Log streams (`gantry logs`) share the channel: the server asks for a container's log (`logs`), the agent
 * answers with batches of lines (`log`) and one `log-end`. The agent holds at most LOG_WINDOW batches of a
 * stream unacknowledged (`logs-ack` comes once the server has handed a batch to its reader) and sends nothing
 * while the socket's own buffer is above LOG_CHANNEL_HIGH_WATER_BYTES, so a chatty container or a slow reader
 * never floods the channel that reports and heartbeats travel on.
 */
import type { DesiredTask, TaskReport } from '../../domain/task.js';

export const AGENT_CHANNEL_PATH = '/agent/v1/channel';
export const AGENT_REGISTER_PATH = '/agent/v1/register';
export const AGENT_PROTOCOL_VERSION = 1;

/** Agent → server. */
export type AgentMessage =
  /** First message after connecting: who it is and every task it currently knows of. */
  | { readonly t: 'hello'; readonly protocol: number; readonly agentVersion: string; readonly containerInstanceArn: string; readonly tasks: readonly TaskReport[] }
  /** A task transition; `seq` increases per agent and survives restarts (it is stored with the outbox). */
  | { readonly t: 'report'; readonly seq: number; readonly report: TaskReport }
  | { readonly t: 'heartbeat'; readonly at: number }
  /** Lines of a log stream; the first batch (possibly empty) also says the container was found. */
  | { readonly t: 'log'; readonly stream: number; readonly lines: readonly LogLineFrame[] }
  /** The stream is over: the container stopped (follow), the lines ran out, or `error` says why it cannot go on. */
  | { readonly t: 'log-end'; readonly stream: number; readonly error?: string };

/** One line of a container's output. */
export interface LogLineFrame {
  readonly stream: 'stdout' | 'stderr';
  /** Epoch milliseconds, as the runtime stamped the line. */
  readonly time: number;
  readonly line: string;
}

/** Server → agent. */
export type ServerMessage =
  /** The instance's whole desired set: sent after hello; anything the agent runs that is not listed is forgotten. */
  | { readonly t: 'desired'; readonly tasks: readonly DesiredTask[] }
  /**
   * What changed in the desired set since the last message: tasks added or updated, and tasks that left it. Sent
   * instead of the whole set as tasks come and go, so each placement costs its instance O(1), not O(tasks).
   */
  | { readonly t: 'desired-changes'; readonly tasks: readonly DesiredTask[]; readonly removed: readonly string[] }
  /** Reports up to and including `seq` are durable on the server. */
  | { readonly t: 'ack'; readonly seq: number }
  | { readonly t: 'heartbeat'; readonly at: number }
  /** The server refuses this agent (deregistered instance, bad credentials); the agent should stop. */
  | { readonly t: 'refused'; readonly reason: string }
  /** Open log stream `stream` (numbered by the server, per connection) on a container of a task. */
  | {
      readonly t: 'logs';
      readonly stream: number;
      readonly taskArn: string;
      readonly container: string;
      readonly follow: boolean;
      /** Only the last N lines of what is already there. */
      readonly tail?: number;
      /** Only lines from this time on (epoch milliseconds). */
      readonly sinceMs?: number;
    }
  /** The reader went away: stop sending the stream (no `log-end` follows). */
  | { readonly t: 'logs-cancel'; readonly stream: number }
  /** `batches` more `log` batches of the stream reached the reader: the agent may send that many more. */
  | { readonly t: 'logs-ack'; readonly stream: number; readonly batches: number };

/** Batches of a log stream the agent may have sent and not yet had acknowledged. */
export const LOG_WINDOW = 8;
/** A batch goes out when it holds this many lines or bytes, or LOG_FLUSH_MS after its first line. */
export const LOG_BATCH_MAX_LINES = 500;
export const LOG_BATCH_MAX_BYTES = 64 * 1024;
export const LOG_FLUSH_MS = 20;
/** Log batches wait while more than this is queued on the agent's socket (reports and heartbeats never wait). */
export const LOG_CHANNEL_HIGH_WATER_BYTES = 512 * 1024;

/** Body of `POST /agent/v1/register` (SigV4-signed with a join token's key or an access key). */
export interface AgentRegisterRequest {
  readonly cluster: string;
  /** Set when an agent re-registers the instance it registered before (kept in its state directory). */
  readonly containerInstanceArn?: string;
  /** Idempotency: a retried registration returns the same instance. */
  readonly clientToken: string;
  readonly totalResources: readonly { name: string; type: string; integerValue?: number; stringSetValue?: string[] }[];
  readonly attributes: readonly { name: string; value?: string }[];
  readonly versionInfo: { readonly agentVersion: string; readonly agentHash?: string; readonly dockerVersion?: string };
  readonly tags?: readonly { key: string; value: string }[];
}

export interface AgentRegisterResponse {
  readonly containerInstanceArn: string;
  /** Credentials that may act for this instance only. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}
