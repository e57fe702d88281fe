/**
 * Composition root of `gantry server`: wires config → store → catalog → auth → API → fleet → front door.
 * The only module (with the CLI) that names concrete implementations.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { ecsOperations } from '../api/ecs/index.js';
import { reapDeletedTaskDefinitions } from '../api/ecs/task-definitions.js';
import { reapStoppedTasks } from '../api/ecs/tasks.js';
import type { Credential, Principal } from '../auth/principals.js';
import { loadRootCredentials } from '../auth/root-credentials.js';
import type { RootCredentials } from '../auth/root-credentials.js';
import { verifySigV4 } from '../auth/sigv4.js';
import type { ServerConfig } from '../config/server-config.js';
import { Arns } from '../domain/arn.js';
import { Ecs } from '../domain/errors.js';
import { ECS_KINDS } from '../domain/records.js';
import { AGENT_CREDENTIAL_KIND, AgentCredentials } from '../fleet/agent-credentials.js';
import { REGISTRY_KINDS, RegistryKind } from '../registry/records.js';
import { startRegistry } from './registry-app.js';
import type { RegistryApp } from './registry-app.js';
import { AgentHub } from '../fleet/agent-hub.js';
import { InstanceMonitor } from '../fleet/instance-monitor.js';
import { ServiceController } from '../services/controller.js';
import { formatJoinToken, JoinTokenSource } from '../fleet/join-token.js';
import { logsRoute } from '../fleet/logs-route.js';
import { registrationRoute } from '../fleet/registration.js';
import { createAwsJsonHandler } from '../protocol/awsjson/handler.js';
import { loadServiceModel, modelPath } from '../protocol/awsjson/model.js';
import { createFrontDoor } from '../server/front-door.js';
import { Catalog } from '../state/catalog.js';
import { EcsState } from '../state/ecs-state.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/types.js';
import { cryptoRng, systemClock } from '../util/clock.js';
import type { Clock, Rng } from '../util/clock.js';
import type { Logger } from '../util/log.js';

export const VERSION = '0.1.0';

export interface ServerAppDeps {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly env: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  readonly rng?: Rng;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly credentials: RootCredentials;
  /** The current cluster join token (`<id>:<secret>`). */
  joinToken(): string;
  /** Creates a cluster as the root user would (CreateCluster: an existing one is left as it is). */
  ensureCluster(name: string): Promise<void>;
  readonly store: Store;
  /** The image registry (OCI API, ECR operations, GC and lifecycle runs). */
  readonly registry: RegistryApp;
  close(): Promise<void>;
}

export async function startServer(deps: ServerAppDeps): Promise<RunningServer> {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const rng = deps.rng ?? cryptoRng;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  const store = await SqliteStore.open({ path: join(config.dataDir, 'gantry.db'), writer: config.storeWriter });
  const catalog = await Catalog.open(store, [...ECS_KINDS, AGENT_CREDENTIAL_KIND, ...REGISTRY_KINDS]);
  const state = new EcsState(catalog);
  const arns = new Arns(config.region, config.accountId);

  // Who a signature can belong to: the root key, the join token (registration only), or an instance's agent.
  const credentials = loadRootCredentials(config.dataDir, deps.env);
  const root: Credential = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    principal: { arn: `arn:aws:iam::${config.accountId}:root`, kind: 'root' },
  };
  const joinTokens = new JoinTokenSource(config.dataDir);
  const agentCredentials = new AgentCredentials(state);
  const lookup = (accessKeyId: string): Credential | undefined => {
    if (accessKeyId === root.accessKeyId) return root;
    const join = joinTokens.current();
    if (accessKeyId === join.accessKeyId) {
      return { ...join, principal: { arn: `arn:aws:iam::${config.accountId}:user/gantry-join-token`, kind: 'joiner' } };
    }
    return agentCredentials.lookup(accessKeyId);
  };

  const authenticate = (req: Parameters<typeof verifySigV4>[0], signingName: string): Principal => {
    const verified = verifySigV4(req, { region: config.region, services: [signingName], nowMs: clock.now() }, lookup);
    const principal = lookup(verified.accessKeyId)!.principal;
    if (principal.kind === 'joiner' || principal.kind === 'agent') {
      throw Ecs.accessDenied(
        `The ${principal.kind === 'joiner' ? 'cluster join token' : 'credentials of a container instance'} may not call the ${signingName.toUpperCase()} API. Use an access key ('gantry credentials').`,
      );
    }
    return principal;
  };

  // The registry: OCI API on /v2/, the ECR API beside ECS on the AWS JSON handler.
  const registry = await startRegistry({
    config,
    catalog,
    arns,
    clock,
    logger,
    lookup,
    accessKeyFor: (principalArn) => (principalArn === root.principal.arn ? root.accessKeyId : undefined),
    agentAccessKeyFor: (instanceArn) => agentCredentials.of(instanceArn).sort((a, b) => b.value.createdAtMs - a.value.createdAtMs)[0]?.value.accessKeyId,
  });

  const ecsModel = loadServiceModel(modelPath('ecs'));
  const operations = ecsOperations({ state, arns, clock, rng });
  const awsJson = createAwsJsonHandler({
    services: [
      { model: ecsModel, operations, displayName: 'Amazon ECS' },
      { model: loadServiceModel(modelPath('ecr')), operations: registry.operations, displayName: 'Amazon ECR' },
    ],
    authenticate,
    logger,
  });

  const hub = new AgentHub({ state, arns, clock, logger, region: config.region, lookup, registryAuth: registry.agentAuth });
  // An instance's registry tokens revoked (RevokeAuthorizationTokens on its ARN): its desired set goes out again at
  // once, with a fresh pull token, so its next pull does not fail on the revoked one.
  const stopRevocations = catalog.subscribe((c) => {
    if (c.kind === RegistryKind.tokenRevocation) hub.resendDesired(c.key);
  });
  const monitor = new InstanceMonitor({ state, hub, clock, logger, lostAfterMs: config.instanceLostAfterMs, heartbeatTimeoutMs: 30_000 });
  await monitor.start();
  const services = new ServiceController({ state, arns, clock, rng, logger: logger.child({ component: 'services' }), settleSec: config.serviceTaskHealthyAfterMs / 1000 });
  services.start();

  // Housekeeping: stopped tasks and deleted task definitions leave once their time is up.
  const housekeeping = setInterval(() => {
    reapStoppedTasks(state, clock.now(), config.stoppedTaskRetentionMs)
      .then(() => reapDeletedTaskDefinitions(state))
      .catch((e: unknown) => logger.warn('housekeeping failed', { error: e }));
  }, 60_000);
  housekeeping.unref();

  const startedAt = clock.now();
  const frontDoor = createFrontDoor({
    awsJson,
    logger,
    health: () => ({ status: 'ok', version: VERSION, store: store.backend, uptimeSeconds: Math.round((clock.now() - startedAt) / 1000) }),
    routes: [
      registrationRoute({
        catalog,
        model: ecsModel,
        registerContainerInstance: operations['RegisterContainerInstance']!,
        agentCredentials,
        lookup,
        region: config.region,
        clock,
        logger,
      }),
      logsRoute({ state, arns, hub, authenticate, clock, logger }),
      registry.route,
    ],
    upgrades: [hub.handleUpgrade],
  });
  const address = await frontDoor.listen(config.host, config.port);
  registry.listening(address);
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}`;
  logger.info('gantry server listening', { url, registry: registry.endpoint(), region: config.region, account: config.accountId, dataDir: config.dataDir });

  return {
    url,
    port: address.port,
    credentials,
    joinToken: () => formatJoinToken(joinTokens.current()),
    ensureCluster: async (name) => {
      const ctx = { requestId: 'startup', principalArn: root.principal.arn, operation: 'CreateCluster' };
      await (operations['CreateCluster'] as (i: unknown, c: typeof ctx) => Promise<unknown>)({ clusterName: name }, ctx);
    },
    store,
    registry,
    close: async () => {
      clearInterval(housekeeping);
      stopRevocations();
      registry.close();
      monitor.stop();
      await hub.close();
      await frontDoor.close();
      await store.close();
    },
  };
}
