/**
 * `gantry agent`: the composition root of the agent. Compiles flags and environment into an AgentConfig,
 * picks the runtime, and runs one agent (Docker) or a fleet of hollow instances (fake) until SIGTERM/SIGINT,
 * which disconnect and leave containers running for the next start to adopt.
 */
import { Agent } from '../agent/agent.js';
import type { AgentExit } from '../agent/agent.js';
import { HollowFleet } from '../agent/hollow-fleet.js';
import { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { TimerWheel } from '../agent/timers.js';
import { VERSION } from '../app/server-app.js';
import { compileAgentConfig } from '../config/agent-config.js';
import type { AgentConfig, AgentFlags } from '../config/agent-config.js';
import { cryptoRng } from '../util/clock.js';
import { createLogger } from '../util/log.js';
import type { Logger } from '../util/log.js';
import type { Command } from './main.js';
import { onSignals } from './signals.js';

const USAGE = `Usage: gantry agent --endpoint URL [--cluster NAME] [options]

Runs the Gantry agent: registers this host as a container instance of the cluster, then runs the tasks the
server places on it as Docker containers and reports their state. Stopping the agent leaves containers running;
the next start adopts them.

Options:
  --endpoint URL                The Gantry server (env GANTRY_ENDPOINT), e.g. http://10.0.0.5:7400
  --cluster NAME                Cluster to join (env GANTRY_CLUSTER; default default)
  --join-token TOKEN            <accessKeyId>:<secretAccessKey> from 'gantry join-token' on the server (env
                                GANTRY_JOIN_TOKEN); else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. Needed only
                                to register (the first time, or when what the host offers changes)
  --region REGION               Region the server signs for (env GANTRY_REGION/AWS_REGION; default us-east-1)
  --zone ZONE                   ecs.availability-zone attribute (env GANTRY_ZONE)
  --instance-type TYPE          ecs.instance-type attribute (env GANTRY_INSTANCE_TYPE)
  --attribute NAME[=VALUE]      A custom attribute (repeatable)
  --reserved-memory MIB         Memory kept back from tasks (default 0)
  --reserved-ports P,P,…        Host TCP ports tasks may not use (default 22,2375,2376,51678,51679 and the
                                server's port when it runs on this host)
  --reserved-ports-udp P,P,…    Host UDP ports tasks may not use (default none)
  --state-dir DIR               Identity, credentials and unsent reports (env GANTRY_AGENT_STATE_DIR; default
                                <data dir>/agent)
  --runtime docker|fake         Container runtime (default docker)
  --docker-host HOST            Docker Engine (env DOCKER_HOST; default unix:///var/run/docker.sock)
  --container-stop-timeout S    Grace period between the stop signal and SIGKILL when a container sets no
                                stopTimeout (default 30s)
  --container-start-timeout S   How long dependsOn conditions may take when a container sets no startTimeout
                                (default 3m)
  --container-cleanup-after D   How long containers of stopped tasks are kept (default 1h)
  --image-pull-behavior B       default (pull, fall back to a cached image), always, once or prefer-cached
  --log-level LEVEL             debug, info, warn or error (default info)
  --log-format FORMAT           text or json (default text)
  -h, --help                    Show this help

Hollow instances (--runtime fake), for scale tests of the server:
  --instances N                 How many instances this process simulates (default 1)
  --cpu UNITS                   CPU units each reports (default 2048)
  --memory MIB                  Memory each reports (default 4096)
  --zones a,b,c                 Availability zones, assigned round-robin
  --instance-types t,u          Instance types, assigned round-robin
  --start-delay MS              How long a fake container takes to start (default 0)`;

const OPTIONS = {
  endpoint: { type: 'string' },
  cluster: { type: 'string' },
  region: { type: 'string' },
  'join-token': { type: 'string' },
  zone: { type: 'string' },
  'instance-type': { type: 'string' },
  attribute: { type: 'string', multiple: true },
  'reserved-memory': { type: 'string' },
  'reserved-ports': { type: 'string' },
  'reserved-ports-udp': { type: 'string' },
  'state-dir': { type: 'string' },
  runtime: { type: 'string' },
  'docker-host': { type: 'string' },
  'container-stop-timeout': { type: 'string' },
  'container-start-timeout': { type: 'string' },
  'container-cleanup-after': { type: 'string' },
  'image-pull-behavior': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  instances: { type: 'string' },
  cpu: { type: 'string' },
  memory: { type: 'string' },
  zones: { type: 'string' },
  'instance-types': { type: 'string' },
  'start-delay': { type: 'string' },
} as const;

export const agentCommand: Command = {
  summary: 'Run the agent on this host: join a cluster and run its tasks in Docker (or simulate hosts)',
  usage: USAGE,
  options: OPTIONS,
  async run(values) {
    const config = compileAgentConfig(values as AgentFlags, { env: process.env });
    const logger = createLogger({ level: config.logLevel, format: config.logFormat });
    const timers = new TimerWheel({ resolutionMs: config.runtime === 'fake' ? 100 : 25 });
    try {
      return config.runtime === 'fake' ? await runFleet(config, timers, logger) : await runAgent(config, timers, logger);
    } finally {
      timers.close();
    }
  },
};

async function runAgent(config: AgentConfig, timers: TimerWheel, logger: Logger): Promise<number> {
  const runtime = new DockerRuntime({ host: config.dockerHost, logger });
  const agent = new Agent({
    options: {
      endpoint: config.endpoint,
      cluster: config.cluster,
      region: config.region,
      ...(config.registrationKey !== undefined ? { registrationKey: config.registrationKey } : {}),
      ...(config.zone !== undefined ? { zone: config.zone } : {}),
      ...(config.instanceType !== undefined ? { instanceType: config.instanceType } : {}),
      attributes: config.attributes,
      reservedMemoryMiB: config.reservedMemoryMiB,
      reservedPorts: config.reservedPorts,
      reservedPortsUdp: config.reservedPortsUdp,
      stateDir: config.stateDir,
      durable: true,
      lockStateDir: true,
      containerStopTimeoutSec: config.containerStopTimeoutSec,
      containerStartTimeoutSec: config.containerStartTimeoutSec,
      containerCleanupAfterMs: config.containerCleanupAfterMs,
      imagePullBehavior: config.imagePullBehavior,
      agentVersion: VERSION,
    },
    runtime,
    timers,
    rng: cryptoRng,
    logger,
  });
  const signals = onSignals(logger, () => agent.stop(), 'stopping; containers keep running');
  try {
    await agent.start();
    logger.info('agent running', { containerInstanceArn: agent.containerInstanceArn, cluster: config.cluster, endpoint: config.endpoint });
    return exitCode(await agent.exited, logger);
  } catch (e) {
    logger.error('agent failed to start', { error: (e as Error).message });
    return 1;
  } finally {
    signals();
    await runtime.close();
  }
}

async function runFleet(config: AgentConfig, timers: TimerWheel, logger: Logger): Promise<number> {
  const fake = config.fake!;
  const fleet = new HollowFleet({ config: { ...config, fake }, agentVersion: VERSION, timers, logger });
  let stopRequested = false;
  const signals = onSignals(
    logger,
    () => {
      stopRequested = true;
      return fleet.stop();
    },
    'stopping; containers keep running',
  );
  const report = setInterval(
    () => logger.info('hollow instances', { connected: fleet.connected, of: fake.instances, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) }),
    30_000,
  );
  try {
    await fleet.start();
    const exits = await fleet.exited;
    return exits.some((e) => e.kind !== 'stopped') && !stopRequested ? 1 : 0;
  } catch (e) {
    logger.error('hollow instances failed to start', { error: (e as Error).message });
    return 1;
  } finally {
    clearInterval(report);
    signals();
  }
}

function exitCode(exit: AgentExit, logger: Logger): number {
  if (exit.kind === 'stopped') return 0;
  if (exit.kind === 'refused') logger.error('the server refused this agent; remove the state directory to register anew if the instance was deregistered', { reason: exit.reason });
  else logger.error('agent failed', { error: exit.error.message });
  return 1;
}

