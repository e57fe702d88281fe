/**
 * Hollow instances: N agents in one process, each with its own registration, state directory, channel and
 * fake runtime, for scale tests of the server. What they share is what makes thousands fit: one event loop,
 * one timer wheel (no per-instance node timers), one HTTP client pool. Their outboxes live in memory: the fake
 * containers die with the process, so there is nothing a journal could help recover.
 */
import { join } from 'node:path';
import type { AgentConfig } from '../config/agent-config.js';
import type { Rng } from '../util/clock.js';
import { cryptoRng } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { Agent } from './agent.js';
import type { AgentExit } from './agent.js';
import { FakeRuntime } from './runtime/fake/fake-runtime.js';
import type { FakeTimers } from './runtime/fake/fake-runtime.js';
import { lockStateDir } from './state-dir.js';
import type { Timers } from './timers.js';

export interface HollowFleetDeps {
  readonly config: AgentConfig & { readonly fake: NonNullable<AgentConfig['fake']> };
  readonly agentVersion: string;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly rng?: Rng;
  /** Registrations in flight at once. */
  readonly concurrency?: number;
}

export class HollowFleet {
  readonly agents: Agent[] = [];
  readonly #deps: HollowFleetDeps;
  #unlock: (() => void) | undefined;
  #stopping = false;

  constructor(deps: HollowFleetDeps) {
    this.#deps = deps;
    for (let i = 0; i < deps.config.fake.instances; i++) this.agents.push(this.#agent(i));
  }

  /**
   * Registers and connects every instance, a bounded number at a time; resolves once all have started (or
   * failed to). `stop()` may be called meanwhile.
   */
  async start(): Promise<void> {
    const { logger } = this.#deps;
    this.#unlock = lockStateDir(this.#deps.config.stateDir);
    let next = 0;
    let started = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (next < this.agents.length && !this.#stopping) {
        const agent = this.agents[next++]!;
        try {
          await agent.start();
          started++;
        } catch (e) {
          failed++;
          if (failed <= 5) logger.error('hollow instance failed to start', { error: (e as Error).message });
        }
        if ((started + failed) % 500 === 0) logger.info('hollow instances starting', { started, failed, of: this.agents.length });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#deps.concurrency ?? 64, this.agents.length) }, worker));
    if (this.#stopping) return;
    logger.info('hollow instances started', { started, failed, of: this.agents.length });
    if (started === 0 && failed > 0) {
      await this.stop();
      throw new Error(`no hollow instance could start (${failed} failed); see the errors above`);
    }
  }

  get connected(): number {
    let n = 0;
    for (const a of this.agents) if (a.connected) n++;
    return n;
  }

  /** Settles when every instance has stopped (asked to, or refused). */
  get exited(): Promise<AgentExit[]> {
    return Promise.all(this.agents.map((a) => a.exited));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.agents.map((a) => a.stop()));
    this.#unlock?.();
    this.#unlock = undefined;
  }

  #agent(i: number): Agent {
    const { config, timers, logger, agentVersion } = this.#deps;
    const { fake } = config;
    const runtime = new FakeRuntime({
      clock: timers,
      timers: fakeTimersFrom(timers),
      host: { cpus: Math.max(1, Math.ceil(fake.cpu / 1024)), memoryMiB: fake.memoryMiB },
      ...(fake.startDelayMs > 0 ? { startDelayMs: fake.startDelayMs } : {}),
    });
    return new Agent({
      options: {
        endpoint: config.endpoint,
        cluster: config.cluster,
        region: config.region,
        ...(config.registrationKey !== undefined ? { registrationKey: config.registrationKey } : {}),
        zone: fake.zones[i % fake.zones.length]!,
        instanceType: fake.instanceTypes[i % fake.instanceTypes.length]!,
        attributes: config.attributes,
        resources: { cpu: fake.cpu, memoryMiB: fake.memoryMiB },
        reservedMemoryMiB: config.reservedMemoryMiB,
        reservedPorts: config.reservedPorts,
        reservedPortsUdp: config.reservedPortsUdp,
        stateDir: join(config.stateDir, `hollow-${String(i).padStart(5, '0')}`),
        durable: false,
        lockStateDir: false,
        containerStopTimeoutSec: config.containerStopTimeoutSec,
        containerStartTimeoutSec: config.containerStartTimeoutSec,
        containerCleanupAfterMs: config.containerCleanupAfterMs,
        imagePullBehavior: config.imagePullBehavior,
        agentVersion,
        // The fake's events are never lost, so its resync can be rare.
        resyncIntervalMs: 300_000,
      },
      runtime,
      timers,
      rng: this.#deps.rng ?? cryptoRng,
      logger: i < 3 ? logger.child({ hollow: i }) : quiet(logger),
    });
  }
}

/** The fake runtime's timers on the shared wheel. */
export function fakeTimersFrom(timers: Timers): FakeTimers {
  return {
    setTimeout: (fn, ms) => timers.after(ms, fn),
    clearTimeout: (h) => (h as (() => void) | undefined)?.(),
  };
}

/** Thousands of instances saying the same thing drown the log: beyond the first few, only warnings and errors. */
function quiet(logger: Logger): Logger {
  const q: Logger = { debug: () => {}, info: () => {}, warn: logger.warn, error: logger.error, child: () => q };
  return q;
}
