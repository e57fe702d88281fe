/**
 * Composition root of `gantry server`: wires config → store → catalog → auth → API → front door.
 * The only module (with the CLI) that names concrete implementations.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { ecsOperations } from '../api/ecs/index.js';
import { reapDeletedTaskDefinitions } from '../api/ecs/task-definitions.js';
import { CredentialRegistry } from '../auth/principals.js';
import type { Principal } from '../auth/principals.js';
import { loadRootCredentials } from '../auth/root-credentials.js';
import type { RootCredentials } from '../auth/root-credentials.js';
import { verifySigV4 } from '../auth/sigv4.js';
import type { ServerConfig } from '../config/server-config.js';
import { Arns } from '../domain/arn.js';
import { ECS_KINDS } from '../domain/records.js';
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
  readonly store: Store;
  close(): Promise<void>;
}

export async function startServer(deps: ServerAppDeps): Promise<RunningServer> {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const rng = deps.rng ?? cryptoRng;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  const store = await SqliteStore.open({ path: join(config.dataDir, 'gantry.db'), writer: config.storeWriter });
  const catalog = await Catalog.open(store, ECS_KINDS);
  const state = new EcsState(catalog);
  const arns = new Arns(config.region, config.accountId);

  const credentials = loadRootCredentials(config.dataDir, deps.env);
  const registry = new CredentialRegistry();
  registry.add({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    principal: { arn: `arn:aws:iam::${config.accountId}:root`, kind: 'root' },
  });

  const authenticate = (req: Parameters<typeof verifySigV4>[0], signingName: string): Principal => {
    const verified = verifySigV4(req, { region: config.region, services: [signingName], nowMs: clock.now() }, registry.lookup);
    return registry.lookup(verified.accessKeyId)!.principal;
  };

  const ecsModel = loadServiceModel(modelPath('ecs'));
  const awsJson = createAwsJsonHandler({
    services: [{ model: ecsModel, operations: ecsOperations({ state, arns, clock, rng }), displayName: 'Amazon ECS' }],
    authenticate,
    logger,
  });

  const startedAt = clock.now();
  const frontDoor = createFrontDoor({
    awsJson,
    logger,
    health: () => ({ status: 'ok', version: VERSION, store: store.backend, uptimeSeconds: Math.round((clock.now() - startedAt) / 1000) }),
  });
  // Housekeeping: deleted task definitions leave once nothing uses them.
  const housekeeping = setInterval(() => {
    reapDeletedTaskDefinitions(state).catch((e: unknown) => logger.warn('task definition cleanup failed', { error: e }));
  }, 60_000);
  housekeeping.unref();

  const address = await frontDoor.listen(config.host, config.port);
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}`;
  logger.info('gantry server listening', { url, region: config.region, account: config.accountId, dataDir: config.dataDir });

  return {
    url,
    port: address.port,
    credentials,
    store,
    close: async () => {
      clearInterval(housekeeping);
      await frontDoor.close();
      await store.close();
    },
  };
}
