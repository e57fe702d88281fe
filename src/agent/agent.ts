/**
 * One agent: one container instance.
 *
 *   state dir → (register, if this instance has no credentials yet or what it offers changed)
 *   → outbox (reports not yet acknowledged) → task engine (adopts containers already running)
 *   → channel: hello with every task's state, then unacknowledged reports; `desired` → reconcile;
 *     each report → outbox (durable) → channel; `ack` → outbox; `refused` → stop
 *   `logs` → log streams (log-streams.ts), which read the runtime's log and end with the channel
 *
 * Stopping the agent leaves containers running: the next agent on this state directory adopts them.
 */
import type { SigningCredentials } from '../auth/sigv4-sign.js';
import type { TaskReport } from '../domain/task.js';
import type { ServerMessage } from '../protocol/agent/messages.js';
import { AGENT_PROTOCOL_VERSION } from '../protocol/agent/messages.js';
import type { Rng } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { ChannelClient } from './channel-client.js';
import { LogStreams } from './log-streams.js';
import { Outbox } from './outbox.js';
import { RegistrationError, register, registrationBody, registrationDigest } from './registration.js';
import type { RegistrationInput } from './registration.js';
import type { ContainerRuntime, PullBehavior } from './runtime/runtime.js';
import { loadState, lockStateDir, newState, saveState, StateDirError } from './state-dir.js';
import type { AgentState } from './state-dir.js';
import { TaskEngine } from './task-engine/task-engine.js';
import type { TaskHook } from './task-engine/hooks.js';
import type { Cancel, Timers } from './timers.js';

export interface AgentOptions {
  readonly endpoint: string;
  readonly cluster: string;
  readonly region: string;
  readonly registrationKey?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly zone?: string;
  readonly instanceType?: string;
  readonly attributes: readonly { readonly name: string; readonly value?: string }[];
  readonly resources?: { readonly cpu: number; readonly memoryMiB: number };
  readonly reservedMemoryMiB: number;
  readonly reservedPorts: readonly number[];
  readonly reservedPortsUdp: readonly number[];
  readonly stateDir: string;
  /**
   * Survive a host crash: the outbox is a journal on disk and the state file is fsync'd (real hosts). Hollow
   * instances, whose containers die with the process, keep the outbox in memory and write their state file
   * without fsync: thousands of synchronous fsyncs would otherwise pace how fast a fleet can register.
   */
  readonly durable: boolean;
  /** Lock the state directory against a second agent (a hollow fleet locks its parent directory once). */
  readonly lockStateDir: boolean;
  readonly containerStopTimeoutSec: number;
  readonly containerStartTimeoutSec: number;
  readonly containerCleanupAfterMs: number;
  readonly imagePullBehavior: PullBehavior;
  readonly agentVersion: string;
  readonly heartbeatMs?: number;
  readonly resyncIntervalMs?: number;
}

export interface AgentDeps {
  readonly options: AgentOptions;
  readonly runtime: ContainerRuntime;
  readonly timers: Timers;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly hooks?: readonly TaskHook[];
  readonly fetch?: typeof fetch;
}

export type AgentExit = { readonly kind: 'stopped' } | { readonly kind: 'refused'; readonly reason: string } | { readonly kind: 'failed'; readonly error: Error };

export class Agent {
  readonly #deps: AgentDeps;
  #state: AgentState | undefined;
  #engine: TaskEngine | undefined;
  #outbox: Outbox | undefined;
  #channel: ChannelClient | undefined;
  #logs: LogStreams | undefined;
  #unlock: (() => void) | undefined;
  /** Reports may go out only after hello: the server must learn who we are first. */
  #ready = false;
  #stopping = false;
  #registerRetry: Cancel | undefined;
  #resolveExit!: (e: AgentExit) => void;
  /** Settles when the agent stops for good: asked to, refused by the server, or failed to start. */
  readonly exited: Promise<AgentExit>;

  constructor(deps: AgentDeps) {
    this.#deps = deps;
    this.exited = new Promise((r) => (this.#resolveExit = r));
  }

  get containerInstanceArn(): string | undefined {
    return this.#state?.containerInstanceArn;
  }

  get engine(): TaskEngine | undefined {
    return this.#engine;
  }

  /** Log streams being served (for tests and metrics). */
  get openLogStreams(): number {
    return this.#logs?.size ?? 0;
  }

  get connected(): boolean {
    return this.#ready && (this.#channel?.connected ?? false);
  }

  /**
   * Registers (retrying while the server is unreachable), adopts, and connects. Resolves once the channel is
   * being dialled; throws on what no retry can fix (a refused registration, a foreign state directory).
   */
  async start(connectDelayMs = 0): Promise<void> {
    const { options, logger } = this.#deps;
    if (this.#stopping) return;
    try {
      if (options.lockStateDir) this.#unlock = lockStateDir(options.stateDir);
      const host = await this.#deps.runtime.info().catch((e: unknown) => {
        throw new Error(`the ${this.#deps.runtime.kind} container runtime is not available: ${(e as Error).message}`);
      });
      const input: RegistrationInput = {
        cluster: options.cluster,
        host,
        ...(options.resources !== undefined ? { resources: options.resources } : {}),
        reservedMemoryMiB: options.reservedMemoryMiB,
        reservedPorts: options.reservedPorts,
        reservedPortsUdp: options.reservedPortsUdp,
        ...(options.zone !== undefined ? { zone: options.zone } : {}),
        ...(options.instanceType !== undefined ? { instanceType: options.instanceType } : {}),
        attributes: options.attributes,
        agentVersion: options.agentVersion,
      };
      this.#state = await this.#registered(input);
      if (this.#stopping) return;
      const arn = this.#state.containerInstanceArn!;
      this.#outbox = await Outbox.open(options.durable ? { dir: options.stateDir } : {});
      this.#engine = new TaskEngine({
        runtime: this.#deps.runtime,
        timers: this.#deps.timers,
        logger: logger.child({ instance: arn.slice(arn.lastIndexOf('/') + 1) }),
        ...(this.#deps.hooks !== undefined ? { hooks: this.#deps.hooks } : {}),
        config: {
          cluster: options.cluster,
          containerInstanceArn: arn,
          defaultStopTimeoutSec: options.containerStopTimeoutSec,
          defaultStartTimeoutSec: options.containerStartTimeoutSec,
          pullBehavior: options.imagePullBehavior,
          cleanupAfterMs: options.containerCleanupAfterMs,
          resyncIntervalMs: options.resyncIntervalMs ?? 60_000,
        },
        onReport: (r) => this.#onReport(r),
      });
      await this.#engine.start();
      if (this.#stopping) return;
      this.#logs = new LogStreams({
        runtime: this.#deps.runtime,
        timers: this.#deps.timers,
        logger,
        locate: (taskArn, container) => this.#locateContainer(taskArn, container),
        send: (m) => this.#channel?.send(m) ?? false,
        buffered: () => this.#channel?.bufferedAmount ?? 0,
      });
      this.#channel = new ChannelClient({
        endpoint: options.endpoint,
        region: this.#state.region ?? options.region,
        credentials: () => this.#credentials(),
        timers: this.#deps.timers,
        rng: this.#deps.rng,
        logger,
        ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
        onOpen: () => this.#onOpen(),
        onMessage: (m) => this.#onMessage(m),
        onDisconnect: (why) => {
          this.#ready = false;
          this.#logs?.closeAll();
          logger.info('channel closed', { why });
        },
      });
      this.#channel.start(connectDelayMs);
    } catch (e) {
      // Asked to stop while starting: not a failure.
      if (this.#stopping) return;
      await this.#shutdown();
      this.#resolveExit({ kind: 'failed', error: e as Error });
      throw e;
    }
  }

  /** Disconnects and stops acting; containers keep running. */
  async stop(): Promise<void> {
    if (this.#stopping) return this.exited.then(() => undefined);
    await this.#shutdown();
    this.#resolveExit({ kind: 'stopped' });
  }

  async #shutdown(): Promise<void> {
    this.#stopping = true;
    this.#ready = false;
    this.#registerRetry?.();
    this.#logs?.closeAll();
    await this.#channel?.close();
    this.#engine?.stop();
    await this.#outbox?.close();
    this.#unlock?.();
    this.#unlock = undefined;
  }

  #credentials(): SigningCredentials {
    const s = this.#state!;
    return { accessKeyId: s.accessKeyId!, secretAccessKey: s.secretAccessKey! };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Registration

  /** The saved identity, registering first when there is none or when what this instance offers changed. */
  async #registered(input: RegistrationInput): Promise<AgentState> {
    const { options, logger } = this.#deps;
    let state = loadState(options.stateDir);
    if (state !== undefined && state.cluster !== options.cluster) {
      throw new StateDirError(
        `the state directory ${options.stateDir} belongs to an instance of cluster '${state.cluster}', not '${options.cluster}'; use another --state-dir.`,
      );
    }
    const body = registrationBody(input);
    const digest = registrationDigest(body);
    const known = state?.containerInstanceArn !== undefined && state.accessKeyId !== undefined;
    if (known && state!.registrationDigest === digest) return state!;
    if (known && options.registrationKey === undefined) {
      logger.warn('what this instance offers changed, but there is no join token to re-register with; keeping the old registration');
      return state!;
    }
    if (options.registrationKey === undefined) {
      throw new RegistrationError(
        'this instance is not registered yet: give a join token (--join-token or GANTRY_JOIN_TOKEN; run `gantry join-token` on the server) or an access key (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY).',
        false,
      );
    }
    if (state === undefined) {
      // The token goes to disk before the first attempt, so a crash mid-registration retries the same registration.
      state = newState(options.cluster);
      saveState(options.stateDir, state, options.durable);
    }
    const request = {
      ...body,
      clientToken: state.clientToken,
      ...(state.containerInstanceArn !== undefined ? { containerInstanceArn: state.containerInstanceArn } : {}),
    };
    const res = await this.#registerWithRetry(request, options.registrationKey);
    const next: AgentState = {
      ...state,
      containerInstanceArn: res.containerInstanceArn,
      accessKeyId: res.accessKeyId,
      secretAccessKey: res.secretAccessKey,
      region: res.region,
      registrationDigest: digest,
    };
    saveState(options.stateDir, next, options.durable);
    logger.info(known ? 'container instance re-registered' : 'container instance registered', { containerInstanceArn: res.containerInstanceArn });
    return next;
  }

  async #registerWithRetry(request: Parameters<typeof register>[0]['request'], key: NonNullable<AgentOptions['registrationKey']>) {
    const { options, timers, rng, logger } = this.#deps;
    for (let attempt = 0; ; attempt++) {
      try {
        return await register({
          endpoint: options.endpoint,
          region: options.region,
          key,
          request,
          nowMs: timers.now(),
          ...(this.#deps.fetch !== undefined ? { fetch: this.#deps.fetch } : {}),
        });
      } catch (e) {
        if (!(e instanceof RegistrationError) || !e.retryable || this.#stopping) throw e;
        const step = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
        const delay = Math.round(step / 2 + (rng.float() * step) / 2);
        (attempt % 10 === 0 ? logger.warn : logger.debug)('registration failed; retrying', { error: e.message, inMs: delay, attempt: attempt + 1 });
        await new Promise<void>((resolve) => {
          const cancel = timers.after(delay, resolve);
          // A stop during the wait ends it at once (and the check below gives up).
          this.#registerRetry = () => {
            cancel();
            resolve();
          };
        });
        if (this.#stopping) throw new RegistrationError('stopped while registering', false);
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // The channel

  #onOpen(): void {
    const channel = this.#channel!;
    channel.send({
      t: 'hello',
      protocol: AGENT_PROTOCOL_VERSION,
      agentVersion: this.#deps.options.agentVersion,
      containerInstanceArn: this.#state!.containerInstanceArn!,
      tasks: this.#engine!.reports(),
    });
    // Whatever the server has not acknowledged goes again; newer than or equal to what hello said, never older.
    for (const e of this.#outbox!.pending()) channel.send({ t: 'report', seq: e.seq, report: e.report });
    this.#ready = true;
  }

  #onMessage(m: ServerMessage): void {
    switch (m.t) {
      case 'desired':
        this.#engine?.reconcile(m.tasks);
        return;
      case 'desired-changes':
        this.#engine?.applyChanges(m.tasks, m.removed);
        return;
      case 'ack':
        this.#outbox?.ack(m.seq);
        return;
      case 'heartbeat':
        return;
      case 'logs':
        this.#logs?.open(m);
        return;
      case 'logs-cancel':
        this.#logs?.cancel(m.stream);
        return;
      case 'logs-ack':
        this.#logs?.ack(m.stream, m.batches);
        return;
      case 'refused':
        this.#deps.logger.error('the server refused this agent; stopping', { reason: m.reason });
        void this.#shutdown().then(() => this.#resolveExit({ kind: 'refused', reason: m.reason }));
        return;
      default:
        this.#deps.logger.debug('ignoring an unknown channel message', { type: (m as { t?: unknown }).t });
    }
  }

  #locateContainer(taskArn: string, container: string): { id: string } | { error: string } {
    const task = this.#engine?.task(taskArn);
    if (task === undefined) {
      return { error: `Task ${taskArn} is not on this instance any more: its containers were removed after it stopped.` };
    }
    const id = task.runtimeIdOf(container);
    if (id !== undefined) return { id };
    return {
      error: task.has(container)
        ? `Container ${container} has not been created yet (the task is ${task.status}); try again once it runs.`
        : `Task ${taskArn} has no container named ${container} on this instance.`,
    };
  }

  #onReport(report: TaskReport): void {
    const outbox = this.#outbox;
    if (outbox === undefined || this.#stopping) return;
    outbox.append(report).then(
      (e) => {
        if (this.#ready) this.#channel?.send({ t: 'report', seq: e.seq, report: e.report });
      },
      (e: unknown) => {
        // Not lost: the task's current state goes out with the next hello.
        if (!this.#stopping) this.#deps.logger.error('could not record a task report', { task: report.taskArn, error: e });
      },
    );
  }
}
