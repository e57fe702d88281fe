/**
 * The agent channel: a WebSocket between each agent and the server (`GET /agent/v1/channel`, SigV4-signed
 * upgrade with the instance's own credentials). JSON text frames, one message each.
 *
 * Level-triggered both ways: the server always sends the *whole* desired task set of the instance (on
 * connect and on every change), never a delta; the agent reconciles its runtime toward it and reports each
 * transition. Reports are numbered by the agent and kept on its disk until the server acknowledges them
 * (after they are durable in the store), so a disconnect or restart on either side loses nothing: the agent
 * re-sends what was not acknowledged, and the server applies reports idempotently.
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
  | { readonly t: 'heartbeat'; readonly at: number };

/** Server → agent. */
export type ServerMessage =
  | { readonly t: 'desired'; readonly tasks: readonly DesiredTask[] }
  /** Reports up to and including `seq` are durable on the server. */
  | { readonly t: 'ack'; readonly seq: number }
  | { readonly t: 'heartbeat'; readonly at: number }
  /** The server refuses this agent (deregistered instance, bad credentials); the agent should stop. */
  | { readonly t: 'refused'; readonly reason: string };

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
