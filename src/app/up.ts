/**
 * Composition root of `gantry up`: the whole system on one machine. The server with its embedded store,
 * a Docker engine (the one at DOCKER_HOST or /var/run/docker.sock, else one Gantry starts with its data
 * under the data directory, installing Debian's docker.io first when it has to), and one agent in this
 * process that joins the `default` cluster with the join token. Stopping leaves task containers running;
 * the next `gantry up` adopts them.
 */
import { join } from 'node:path';
import { Agent } from '../agent/agent.js';
import { ensureBusyboxImage, DEMO_IMAGE } from '../agent/runtime/docker/busybox-image.js';
import { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { ensureDockerEngine } from '../agent/runtime/docker/engine.js';
import type { DockerEngine } from '../agent/runtime/docker/engine.js';
import { TimerWheel } from '../agent/timers.js';
import { parseJoinToken } from '../fleet/join-token.js';
import type { ServerConfig } from '../config/server-config.js';
import { cryptoRng } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { startServer, VERSION } from './server-app.js';
import type { RunningServer } from './server-app.js';

export interface UpDeps {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly env: NodeJS.ProcessEnv;
  /** Progress lines for the person waiting (engine start, image import…). */
  readonly progress: (line: string) => void;
}

export interface RunningSystem {
  readonly server: RunningServer;
  readonly engine: DockerEngine;
  readonly agent: Agent;
  /** The demo image, when it could be imported. */
  readonly demoImage: string | undefined;
  close(): Promise<void>;
}

export const UP_CLUSTER = 'default';

export async function startUp(deps: UpDeps): Promise<RunningSystem> {
  const { config, logger, progress } = deps;
  const server = await startServer({ config, logger, env: deps.env });
  const closers: (() => Promise<void>)[] = [() => server.close()];
  try {
    await server.ensureCluster(UP_CLUSTER);
    progress('Looking for a Docker engine…');
    const engine = await ensureDockerEngine({
      dataDir: config.dataDir,
      logger,
      ...(deps.env['DOCKER_HOST'] ? { dockerHost: deps.env['DOCKER_HOST'] } : {}),
    });
    progress(engine.startedByUs ? `Started a Docker engine of Gantry's own at ${engine.host}` : `Using the Docker engine at ${engine.host}`);
    const runtime = new DockerRuntime({ host: engine.host, logger });
    closers.unshift(() => runtime.close());
    const demoImage = (await ensureBusyboxImage(runtime).catch(() => false)) ? DEMO_IMAGE : undefined;

    const timers = new TimerWheel({ resolutionMs: 25 });
    closers.unshift(async () => timers.close());
    const agent = new Agent({
      options: {
        endpoint: server.url,
        cluster: UP_CLUSTER,
        region: config.region,
        registrationKey: parseJoinToken(server.joinToken())!,
        attributes: [],
        reservedMemoryMiB: 0,
        reservedPorts: [22, 2375, 2376, 51678, 51679, server.port],
        reservedPortsUdp: [],
        stateDir: join(config.dataDir, 'agent'),
        durable: true,
        lockStateDir: true,
        containerStopTimeoutSec: 30,
        containerStartTimeoutSec: 180,
        containerCleanupAfterMs: 3_600_000,
        // A laptop's images are usually local (the demo image always is): use them when present, pull otherwise.
        imagePullBehavior: 'prefer-cached',
        agentVersion: VERSION,
        zone: `${config.region}a`,
      },
      runtime,
      timers,
      rng: cryptoRng,
      logger: logger.child({ component: 'agent' }),
    });
    await agent.start();
    closers.unshift(() => agent.stop().then(() => undefined));
    return {
      server,
      engine,
      agent,
      demoImage,
      close: async () => {
        for (const c of closers) await c().catch((e: unknown) => logger.warn('error while stopping', { error: e }));
      },
    };
  } catch (e) {
    for (const c of closers) await c().catch(() => undefined);
    throw e;
  }
}
