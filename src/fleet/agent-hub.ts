/**
 * The server side of the agent channel (src/protocol/agent/messages.ts). One WebSocket per container
 * instance, authenticated by a SigV4-presigned upgrade with the instance's own credentials.
 *
 *   connect → hello (agent's view of its tasks) → apply reports → send the desired task set
 *   task changes in the catalog → send the instance's desired set again (coalesced)
 *   report → apply to the task record durably → ack
 *   heartbeats ↔ liveness; close → agentConnected false
 *   log streams: `logs` out, `log` batches in → the reader's sink → `logs-ack` once the reader took them
 *
 * Reports from one agent are applied in order, one at a time, and acknowledged only after they are durable,
 * so the agent can drop them from its on-disk outbox. Applying a report is idempotent (a report that
 * changes nothing writes nothing), so re-sent reports after a reconnect are harmless.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import type { Credential } from '../auth/principals.js';
import { verifySigV4 } from '../auth/sigv4.js';
import type { Arns } from '../domain/arn.js';
import { ApiError } from '../domain/errors.js';
import { Kind } from '../domain/records.js';
import type { ContainerInstanceRecord, TaskDefinitionRecord } from '../domain/records.js';
import type { DesiredTask, TaskRecord, TaskReport } from '../domain/task.js';
import { applyTaskReport, desiredTaskOf, stopTask } from '../domain/task-lifecycle.js';
import type { AgentMessage, LogLineFrame, ServerMessage } from '../protocol/agent/messages.js';
import { AGENT_CHANNEL_PATH, AGENT_PROTOCOL_VERSION } from '../protocol/agent/messages.js';
import type { Catalog } from '../state/catalog.js';
import { putOp } from '../state/catalog.js';
import type { Versioned } from '../state/catalog.js';
import { instanceKey, taskDefinitionKey } from '../state/ecs-state.js';
import type { EcsState } from '../state/ecs-state.js';
import { epochSeconds } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { TickCork } from '../util/tick-cork.js';

export interface AgentHubDeps {
  readonly state: EcsState;
  readonly arns: Arns;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly region: string;
  readonly lookup: (accessKeyId: string) => Credential | undefined;
  /** Credentials for images of Gantry's own registry that a task on this instance names (added to its DesiredTask). */
  readonly registryAuth?: (instanceArn: string, images: readonly string[]) => Record<string, { username: string; password: string }> | undefined;
}

interface Session {
  readonly ws: WebSocket;
  /** Frames sent to the agent in one event-loop turn leave in one write. */
  readonly cork: TickCork;
  readonly cluster: string;
  readonly instanceId: string;
  readonly instanceArn: string;
  lastSeenMs: number;
  /** Reports are applied strictly in order. */
  queue: Promise<void>;
  /** Reports received and not yet taken by a queued apply: applied together, in order, in one commit. */
  pendingReports: { readonly report: TaskReport; readonly seq: number }[];
  reportsQueued: boolean;
  helloDone: boolean;
  /** Open log streams of this connection, by stream number. */
  readonly logs: Map<number, LogSink>;
  nextLogStream: number;
}

/** What to read: one container of a task on the instance. */
export interface LogStreamRequest {
  readonly taskArn: string;
  readonly container: string;
  readonly follow: boolean;
  readonly tail?: number;
  readonly sinceMs?: number;
}

/** Where a log stream's lines go (an HTTP response). */
export interface LogSink {
  /** A batch (the first, possibly empty, says the container was found); call `taken` once the reader has it. */
  lines(lines: readonly LogLineFrame[], taken: () => void): void;
  /** The stream is over; `error` says why when it did not simply run out, `channelLost` that the agent went away. */
  end(error?: string, channelLost?: boolean): void;
}

/** An instance has at most this many log streams open; more are refused rather than queued. */
export const MAX_LOG_STREAMS_PER_INSTANCE = 32;

export class AgentHub {
  readonly #deps: AgentHubDeps;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  /** By instance ARN: the live session of each instance. */
  readonly #sessions = new Map<string, Session>();
  readonly #dirty = new Map<string, Set<string>>();
  #flushScheduled = false;
  readonly #unsubscribe: () => void;

  constructor(deps: AgentHubDeps) {
    this.#deps = deps;
    // A committed change to what an agent must do re-sends that instance's desired set. Reports change task
    // records too, but not that: echoing the whole set after every report would cost each instance O(tasks)
    // per transition on both ends, for nothing.
    this.#unsubscribe = deps.state.catalog.subscribe((c) => {
      if (c.kind !== Kind.task) return;
      const before = c.before as TaskRecord | undefined;
      const after = c.after as TaskRecord | undefined;
      if (agentView(before) === agentView(after)) return;
      for (const arn of [before?.containerInstanceArn, after?.containerInstanceArn]) {
        if (arn !== undefined && this.#sessions.has(arn)) this.#markDirty(arn, c.key);
      }
    });
  }

  get catalog(): Catalog {
    return this.#deps.state.catalog;
  }

  /** Connected instances and when each was last heard from (for the instance monitor). */
  lastSeen(): ReadonlyMap<string, number> {
    const m = new Map<string, number>();
    for (const [arn, s] of this.#sessions) m.set(arn, s.lastSeenMs);
    return m;
  }

  isConnected(instanceArn: string): boolean {
    return this.#sessions.has(instanceArn);
  }

  /** Routes an HTTP upgrade; returns false if it is not for the agent channel. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if ((req.url ?? '').split('?')[0] !== AGENT_CHANNEL_PATH) return false;
    let credential: Credential;
    try {
      const verified = verifySigV4(
        { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headersDistinct, body: Buffer.alloc(0) },
        { region: this.#deps.region, services: ['ecs'], nowMs: this.#deps.clock.now() },
        (id) => this.#deps.lookup(id),
      );
      credential = this.#deps.lookup(verified.accessKeyId)!;
    } catch (e) {
      const reason = e instanceof ApiError ? `${e.code}: ${e.message}` : 'authentication failed';
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${reason}\n`);
      return true;
    }
    const scope = credential.principal.scope;
    if (credential.principal.kind !== 'agent' || !scope) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\nThe agent channel needs the credentials an instance got when it registered.\n');
      return true;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, new TickCork(socket), scope.cluster, scope.containerInstanceArn));
    return true;
  };

  #accept(ws: WebSocket, cork: TickCork, cluster: string, instanceArn: string): void {
    const instanceId = instanceArn.split('/').at(-1)!;
    const instance = this.#deps.state.instance(cluster, instanceId);
    if (!instance || instance.value.status === 'INACTIVE') {
      this.#send(ws, { t: 'refused', reason: `Container instance ${instanceArn} is not registered (deregistered?). Register again with the join token.` });
      ws.close(4001, 'instance not registered');
      return;
    }
    // A newer connection of the same instance replaces the old one (e.g. after a network blip).
    const old = this.#sessions.get(instanceArn);
    if (old) old.ws.terminate();
    const session: Session = {
      ws,
      cork,
      cluster,
      instanceId,
      instanceArn,
      lastSeenMs: this.#deps.clock.now(),
      queue: Promise.resolve(),
      pendingReports: [],
      reportsQueued: false,
      helloDone: false,
      logs: new Map(),
      nextLogStream: 1,
    };
    this.#sessions.set(instanceArn, session);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: AgentMessage;
      try {
        msg = JSON.parse(data.toString()) as AgentMessage;
      } catch {
        return;
      }
      session.lastSeenMs = this.#deps.clock.now();
      this.#onMessage(session, msg);
    });
    ws.on('close', () => {
      this.#endLogStreams(session, `The agent of ${instanceArn} disconnected; the log stream was cut.`);
      if (this.#sessions.get(instanceArn) !== session) return;
      this.#sessions.delete(instanceArn);
      void this.#setConnected(cluster, instanceId, false).catch((e: unknown) => this.#deps.logger.warn('could not record agent disconnect', { instanceArn, error: e }));
    });
    ws.on('error', () => ws.terminate());
  }

  #onMessage(session: Session, msg: AgentMessage): void {
    switch (msg.t) {
      case 'hello':
        if (msg.protocol !== AGENT_PROTOCOL_VERSION) {
          this.#sendTo(session, { t: 'refused', reason: `Agent protocol ${msg.protocol} is not supported; this server speaks ${AGENT_PROTOCOL_VERSION}. Upgrade the agent.` });
          session.ws.close(4002, 'protocol');
          return;
        }
        this.#enqueue(session, async () => {
          await this.#setConnected(session.cluster, session.instanceId, true, msg.agentVersion);
          await this.#applyAll(session, msg.tasks);
          await this.#stopLostTasks(session, new Set(msg.tasks.map((r) => r.taskArn)));
          session.helloDone = true;
          this.#sendDesired(session);
        });
        return;
      case 'report':
        // Reports that arrive while earlier ones are being committed are applied together: one commit, one
        // cumulative ack for the batch.
        session.pendingReports.push({ report: msg.report, seq: msg.seq });
        if (!session.reportsQueued) {
          session.reportsQueued = true;
          this.#enqueue(session, async () => {
            session.reportsQueued = false;
            const batch = session.pendingReports.splice(0);
            await this.#applyAll(session, batch.map((b) => b.report));
            this.#sendTo(session, { t: 'ack', seq: Math.max(...batch.map((b) => b.seq)) });
          });
        }
        return;
      case 'heartbeat':
        this.#sendTo(session, { t: 'heartbeat', at: this.#deps.clock.now() });
        return;
      case 'log': {
        const sink = session.logs.get(msg.stream);
        if (sink === undefined) return;
        let taken = false;
        sink.lines(msg.lines, () => {
          if (taken || session.logs.get(msg.stream) !== sink) return;
          taken = true;
          this.#sendTo(session, { t: 'logs-ack', stream: msg.stream, batches: 1 });
        });
        return;
      }
      case 'log-end': {
        const sink = session.logs.get(msg.stream);
        if (sink === undefined) return;
        session.logs.delete(msg.stream);
        sink.end(msg.error);
        return;
      }
    }
  }

  /**
   * Asks the instance's agent for a container's log; lines go to `sink` until it ends. Returns the function
   * that cancels the stream (the reader went away), or a reason when no stream can be opened.
   */
  openLogStream(
    instanceArn: string,
    request: LogStreamRequest,
    sink: LogSink,
  ): { cancel: () => void } | { refused: 'AgentNotConnected' | 'TooManyLogStreams'; message: string } {
    const session = this.#sessions.get(instanceArn);
    if (session === undefined || !session.helloDone) {
      return {
        refused: 'AgentNotConnected',
        message: `The agent of container instance ${instanceArn} is not connected; its tasks' logs can be read once it reconnects.`,
      };
    }
    if (session.logs.size >= MAX_LOG_STREAMS_PER_INSTANCE) {
      return {
        refused: 'TooManyLogStreams',
        message: `Container instance ${instanceArn} already serves ${MAX_LOG_STREAMS_PER_INSTANCE} log streams; try again when one ends.`,
      };
    }
    const stream = session.nextLogStream++;
    session.logs.set(stream, sink);
    this.#sendTo(session, { t: 'logs', stream, ...request });
    return {
      cancel: () => {
        if (session.logs.get(stream) !== sink) return;
        session.logs.delete(stream);
        this.#sendTo(session, { t: 'logs-cancel', stream });
      },
    };
  }

  #endLogStreams(session: Session, why: string): void {
    const sinks = [...session.logs.values()];
    session.logs.clear();
    for (const sink of sinks) sink.end(why, true);
  }

  #enqueue(session: Session, work: () => Promise<void>): void {
    session.queue = session.queue.then(work).catch((e: unknown) => {
      // A report that cannot be applied now is not acknowledged: the agent keeps it and sends it again.
      this.#deps.logger.warn('agent message not applied', { instanceArn: session.instanceArn, error: e });
      session.ws.terminate();
    });
  }

  /** Applies reports in order in one durable commit (one write per task); reports about other instances' tasks are ignored. */
  async #applyAll(session: Session, reports: readonly TaskReport[]): Promise<void> {
    const { state, clock } = this.#deps;
    await state.catalog.transact(() => {
      const nowSec = epochSeconds(clock.now());
      const read = new Map<string, Versioned<TaskRecord>>();
      const latest = new Map<string, TaskRecord>();
      for (const report of reports) {
        const key = `${session.cluster}/${report.taskArn.split('/').at(-1)!}`;
        let cur = latest.get(key);
        if (cur === undefined) {
          const r = state.catalog.get<TaskRecord>(Kind.task, key);
          if (!r || r.value.containerInstanceArn !== session.instanceArn) continue;
          read.set(key, r);
          cur = r.value;
        }
        const next = applyTaskReport(cur, report, nowSec);
        if (next) latest.set(key, next);
      }
      const ops = [...latest].map(([key, value]) => putOp(Kind.task, key, value, read.get(key)));
      return { ops, result: undefined };
    });
  }



  /**
   * Tasks whose containers the agent once reported (they have runtime ids) but no longer knows of: their
   * containers are gone (the host or its Docker engine lost them). Listing them as desired would start them
   * again silently; ECS's answer is a stopped task that the service scheduler replaces, so they are recorded as
   * stopped. A task the agent reported before it had created any container (say, killed while pulling) has
   * lost nothing: it stays desired and the agent starts it (container names are deterministic, so a container
   * created just before a crash is adopted, not duplicated).
   */
  async #stopLostTasks(session: Session, known: ReadonlySet<string>): Promise<void> {
    const { state, clock } = this.#deps;
    await state.catalog.transact(() => {
      const ops = [];
      for (const key of state.tasksByInstance.keys(session.instanceArn)) {
        const t = state.catalog.get<TaskRecord>(Kind.task, key);
        if (!t || t.value.containerInstanceArn !== session.instanceArn || t.value.lastStatus === 'STOPPED') continue;
        if (t.value.reportedAt === undefined || known.has(t.value.taskArn)) continue;
        if (!t.value.containers.some((c) => c.runtimeId !== undefined)) continue;
        const next = stopTask(
          t.value,
          'InfrastructureHealth',
          `The containers of this task were lost: the agent on ${session.instanceArn} came back without them.`,
          epochSeconds(clock.now()),
          { immediately: true },
        );
        if (next) ops.push(putOp(Kind.task, key, next, t));
      }
      return { ops, result: undefined };
    });
  }

  async #setConnected(cluster: string, id: string, connected: boolean, agentVersion?: string): Promise<void> {
    const { state, clock } = this.#deps;
    await state.catalog.transact(() => {
      const cur = state.instance(cluster, id);
      if (!cur) return { ops: [], result: undefined };
      const versionInfo = agentVersion !== undefined ? { ...cur.value.versionInfo, agentVersion } : cur.value.versionInfo;
      if (cur.value.agentConnected === connected && versionInfo.agentVersion === cur.value.versionInfo.agentVersion) return { ops: [], result: undefined };
      const value: ContainerInstanceRecord = { ...cur.value, agentConnected: connected, versionInfo, version: state.latestInstanceVersion(cur.value) + 1, lastHeartbeatMs: clock.now() };
      return { ops: [putOp(Kind.containerInstance, instanceKey(cluster, id), value, cur)], result: undefined };
    });
  }

  /** Queues a task of an instance for the next flush, which sends each instance what changed (desired-changes). */
  #markDirty(instanceArn: string, taskKey: string): void {
    let keys = this.#dirty.get(instanceArn);
    if (!keys) this.#dirty.set(instanceArn, (keys = new Set()));
    keys.add(taskKey);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const dirty = [...this.#dirty];
      this.#dirty.clear();
      for (const [arn, keys] of dirty) {
        const s = this.#sessions.get(arn);
        if (s?.helloDone) this.#sendChanges(s, keys);
      }
    });
  }

  #sendChanges(session: Session, keys: ReadonlySet<string>): void {
    const { state } = this.#deps;
    const tasks: DesiredTask[] = [];
    const removed: string[] = [];
    for (const key of keys) {
      const t = state.catalog.get<TaskRecord>(Kind.task, key)?.value;
      const desired = t === undefined ? undefined : this.#desiredOf(session.instanceArn, t);
      if (desired) tasks.push(desired);
      else if (t !== undefined) removed.push(t.taskArn);
      else removed.push(taskArnOfKey(this.#deps.arns, key));
    }
    this.#sendTo(session, { t: 'desired-changes', tasks, removed });
  }

  /** The whole desired task set of an instance: every task placed on it that has not stopped. */
  desiredTasks(instanceArn: string): DesiredTask[] {
    const { state } = this.#deps;
    const out: DesiredTask[] = [];
    for (const key of state.tasksByInstance.keys(instanceArn)) {
      const t = state.catalog.get<TaskRecord>(Kind.task, key)?.value;
      const desired = t === undefined ? undefined : this.#desiredOf(instanceArn, t);
      if (desired) out.push(desired);
    }
    return out;
  }

  /** What the instance's agent is told of one task, or undefined when the task is not (or no longer) in its set. */
  #desiredOf(instanceArn: string, t: TaskRecord): DesiredTask | undefined {
    const { state } = this.#deps;
    if (t.containerInstanceArn !== instanceArn || t.lastStatus === 'STOPPED') return undefined;
    const [family, rev] = t.taskDefinitionArn.split('/').at(-1)!.split(':') as [string, string];
    const def = state.catalog.get<TaskDefinitionRecord>(Kind.taskDefinition, taskDefinitionKey(family, Number(rev)))?.value;
    if (!def) return undefined;
    const desired = desiredTaskOf(t, def);
    const auth = this.#deps.registryAuth?.(instanceArn, desired.containers.map((c) => c.image ?? ''));
    return auth === undefined ? desired : { ...desired, registryAuth: auth };
  }

  #sendDesired(session: Session): void {
    this.#sendTo(session, { t: 'desired', tasks: this.desiredTasks(session.instanceArn) });
  }

  #send(ws: WebSocket, msg: ServerMessage): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  }

  #sendTo(session: Session, msg: ServerMessage): void {
    session.cork.hold();
    this.#send(session.ws, msg);
  }

  /**
   * Sends the instance's whole desired set again now (if its agent is connected): for changes that alter what the
   * set carries without changing its tasks, such as the registry credentials after the instance's tokens are revoked.
   */
  resendDesired(instanceArn: string): void {
    const session = this.#sessions.get(instanceArn);
    if (session?.helloDone) this.#sendDesired(session);
  }

  /** Drops a connection that has gone silent (it will reconnect if it is alive). */
  disconnect(instanceArn: string): void {
    this.#sessions.get(instanceArn)?.ws.terminate();
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    for (const s of this.#sessions.values()) {
      this.#endLogStreams(s, 'The server is shutting down.');
      s.ws.close(1001, 'server shutting down');
    }
    this.#sessions.clear();
    await new Promise<void>((r) => this.#wss.close(() => r()));
  }
}

/**
 * What of a task its instance's agent is told (desiredTaskOf): whether it is in the set, and its desiredStatus.
 * The rest of a DesiredTask is fixed at placement.
 */
/** The task ARN behind a task record key (`cluster/id`), for a record that is gone. */
function taskArnOfKey(arns: Arns, key: string): string {
  const slash = key.indexOf('/');
  return arns.task(key.slice(0, slash), key.slice(slash + 1));
}

function agentView(t: TaskRecord | undefined): string | undefined {
  if (t === undefined || t.containerInstanceArn === undefined || t.lastStatus === 'STOPPED') return undefined;
  return `${t.containerInstanceArn} ${t.desiredStatus}`;
}
