/**
 * Composition of the registry inside `gantry server`: master key → blob store (filesystem, encrypted) →
 * registry core → token auth → OCI route and ECR API, plus the schedules (GC, lifecycle policies) and the
 * registry credentials the server hands agents with their tasks.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ecrOperations, enforceLifecyclePolicies } from '../api/ecr/index.js';
import type { Credential } from '../auth/principals.js';
import type { ServerConfig } from '../config/server-config.js';
import type { Arns } from '../domain/arn.js';
import { Access } from '../registry/access.js';
import { RegistryAuth, loadSigningKey } from '../registry/auth.js';
import { collectGarbage } from '../registry/gc.js';
import { ociRoute } from '../registry/oci-route.js';
import { imageRegistryHost } from '../registry/reference.js';
import { Registry } from '../registry/registry.js';
import { FsBlobStore } from '../registry/storage/fs-blob-store.js';
import { loadMasterKey } from '../registry/storage/master-key.js';
import { RegistryTokens, TOKEN_TTL_MS } from '../registry/tokens.js';
import type { Catalog } from '../state/catalog.js';
import type { OperationTable } from '../api/ecs/context.js';
import type { Route } from '../server/front-door.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';

export interface RegistryAppDeps {
  readonly config: ServerConfig;
  readonly catalog: Catalog;
  readonly arns: Arns;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly lookup: (accessKeyId: string) => Credential | undefined;
  /** The access key of a user principal (tokens are bound to it). */
  readonly accessKeyFor: (principalArn: string) => string | undefined;
  /** The access key a container instance's agent holds. */
  readonly agentAccessKeyFor: (instanceArn: string) => string | undefined;
}

export interface RegistryApp {
  readonly registry: Registry;
  readonly operations: OperationTable;
  readonly route: Route;
  readonly auth: RegistryAuth;
  /** Call once the server listens: fixes `host:port` when it was not configured. */
  listening(address: AddressInfo): void;
  /** `host:port` of the registry. */
  endpoint(): string;
  /** Registry credentials an agent needs for these images (those of this registry), or undefined. */
  agentAuth(instanceArn: string, images: readonly string[]): Record<string, { username: string; password: string }> | undefined;
  runGc(): Promise<void>;
  runLifecycle(): Promise<void>;
  close(): void;
}

export async function startRegistry(deps: RegistryAppDeps): Promise<RegistryApp> {
  const { config, catalog, clock, logger } = deps;
  const master = loadMasterKey({ file: join(config.dataDir, 'registry', 'master.key'), fromEnv: config.registryMasterKey });
  const blobs = await FsBlobStore.open({ root: join(config.dataDir, 'registry'), masterKey: master });
  const registry = new Registry({ catalog, blobs, clock, logger, accountId: config.accountId });
  const tokens = new RegistryTokens({ signingKey: await loadSigningKey(catalog, master), clock });
  let endpoint = config.registryHost ?? '';
  let port = 0;
  const auth = new RegistryAuth({ catalog, tokens, clock, lookup: deps.lookup, realm: () => `http://${endpoint}/` });
  const access = new Access();
  const hasAccessKey = (principalArn: string) => deps.accessKeyFor(principalArn) !== undefined || deps.agentAccessKeyFor(principalArn) !== undefined;
  const operations = ecrOperations({ registry, access, auth, arns: deps.arns, clock, endpoint: () => endpoint, accessKeyFor: deps.accessKeyFor, hasAccessKey });
  const route = ociRoute({ registry, auth, access, logger: logger.child({ part: 'registry' }) });

  // Agents get a token per instance, reused for half its life so desired sets do not change on every send, and
  // replaced at once when the instance's tokens are revoked (RevokeAuthorizationTokens).
  const agentTokens = new Map<string, { password: string; issuedAtMs: number; renewAtMs: number }>();
  const agentAuth = (instanceArn: string, images: readonly string[]) => {
    const aliases = new Set([endpoint, `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
    const hosts = [...new Set(images.map(imageRegistryHost).filter((h): h is string => h !== undefined && aliases.has(h)))];
    if (hosts.length === 0) return undefined;
    let cached = agentTokens.get(instanceArn);
    if (cached === undefined || clock.now() >= cached.renewAtMs || cached.issuedAtMs < (auth.revokedBefore(instanceArn) ?? 0)) {
      const accessKeyId = deps.agentAccessKeyFor(instanceArn);
      if (accessKeyId === undefined) return undefined;
      const { token, claims } = tokens.issue({ accessKeyId, principalArn: instanceArn, kind: 'agent' });
      cached = { password: token, issuedAtMs: claims.issuedAtMs, renewAtMs: claims.issuedAtMs + TOKEN_TTL_MS / 2 };
      agentTokens.set(instanceArn, cached);
    }
    return Object.fromEntries(hosts.map((h) => [h, { username: 'AWS', password: cached.password }]));
  };

  const runGc = async () => {
    await collectGarbage({ registry, clock, logger });
  };
  const runLifecycle = async () => {
    const n = await enforceLifecyclePolicies({ registry, clock, logger });
    if (n > 0) logger.info('lifecycle policies expired images', { images: n });
  };
  const gcTimer = setInterval(() => void runGc().catch((e: unknown) => logger.warn('registry GC failed', { error: e })), config.registryGcIntervalMs);
  const lifecycleTimer = setInterval(
    () => void runLifecycle().catch((e: unknown) => logger.warn('lifecycle policies failed', { error: e })),
    config.registryLifecycleIntervalMs,
  );
  gcTimer.unref();
  lifecycleTimer.unref();

  return {
    registry,
    operations,
    route,
    auth,
    listening(address) {
      port = address.port;
      if (config.registryHost !== undefined) return;
      const wildcard = address.address === '0.0.0.0' || address.address === '::';
      const host = wildcard ? hostname() : address.family === 'IPv6' ? `[${address.address}]` : address.address;
      endpoint = `${host}:${address.port}`;
    },
    endpoint: () => endpoint,
    agentAuth,
    runGc,
    runLifecycle,
    close() {
      clearInterval(gcTimer);
      clearInterval(lifecycleTimer);
    },
  };
}
