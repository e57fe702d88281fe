/**
 * Server options, compiled once at the edge from flags and environment into one frozen, typed object
 * (STYLE.md: Temporal's `WorkerOptions → CompiledWorkerOptions`). Nothing downstream reads process.env.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDurationMs } from '../util/duration.js';
import type { LogLevel } from '../util/log.js';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly accountId: string;
  readonly region: string;
  readonly logLevel: LogLevel;
  readonly logFormat: 'text' | 'json';
  /**
   * Where SQLite commits run: 'thread' (default) on a writer thread, keeping SQLite's work — B-tree updates, WAL
   * frames, checkpoints, fsync — off the event loop; or 'inline' on the event loop.
   */
  readonly storeWriter: 'inline' | 'thread';
  /** Agent silence after which an instance's tasks are stopped (InfrastructureHealth). */
  readonly instanceLostAfterMs: number;
  /** How long a service task without health checks must be RUNNING before it counts as healthy (deployments). */
  readonly serviceTaskHealthyAfterMs: number;
  /** How long STOPPED tasks stay visible. */
  readonly stoppedTaskRetentionMs: number;
  /**
   * `host:port` clients use for the registry (repositoryUri, proxyEndpoint, agents' pulls). Undefined: derived
   * from the listen address once the port is known (127.0.0.1:PORT on loopback, the machine's name otherwise).
   */
  readonly registryHost: string | undefined;
  /** The registry master key from GANTRY_REGISTRY_MASTER_KEY; undefined: `<data-dir>/registry/master.key`. */
  readonly registryMasterKey: string | undefined;
  /** How often registry garbage collection and lifecycle policies run. */
  readonly registryGcIntervalMs: number;
  readonly registryLifecycleIntervalMs: number;
}

/** '30', '30s', '500ms', '5m', '1h' → milliseconds (a bare number is seconds); ConfigError naming the flag otherwise. */
export function duration(flag: string, text: string): number {
  const ms = parseDurationMs(text, { bareSeconds: true });
  if (ms === undefined) throw new ConfigError(`${flag} must be a duration like 30s, 5m or 1h; got '${text}'.`);
  return ms;
}

export interface ServerFlags {
  host?: string | undefined;
  port?: string | undefined;
  'data-dir'?: string | undefined;
  'account-id'?: string | undefined;
  region?: string | undefined;
  'log-level'?: string | undefined;
  'log-format'?: string | undefined;
  'store-writer'?: string | undefined;
  'instance-lost-after'?: string | undefined;
  'service-task-healthy-after'?: string | undefined;
  'stopped-task-retention'?: string | undefined;
  'registry-host'?: string | undefined;
  'registry-gc-interval'?: string | undefined;
  'registry-lifecycle-interval'?: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** The per-user data directory: $GANTRY_DATA_DIR, else $XDG_DATA_HOME/gantry, else ~/.local/share/gantry. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  if (env['GANTRY_DATA_DIR']) return resolve(env['GANTRY_DATA_DIR']);
  const xdg = env['XDG_DATA_HOME'];
  return join(xdg && xdg !== '' ? xdg : join(homedir(), '.local', 'share'), 'gantry');
}

export function compileServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv, isTty = false): ServerConfig {
  const host = flags.host ?? env['GANTRY_HOST'] ?? '127.0.0.1';
  const portText = flags.port ?? env['GANTRY_PORT'] ?? '7400';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new ConfigError(`--port must be a TCP port number from 0 to 65535 (0 picks a free one); got '${portText}'.`);
  }
  const accountId = flags['account-id'] ?? env['GANTRY_ACCOUNT_ID'] ?? '000000000000';
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`--account-id must be 12 digits, like 123456789012; got '${accountId}'.`);
  const region = flags.region ?? env['GANTRY_REGION'] ?? 'us-east-1';
  if (!REGION.test(region)) throw new ConfigError(`--region must look like an AWS region, e.g. us-east-1 or eu-west-2; got '${region}'.`);
  const logLevel = (flags['log-level'] ?? env['GANTRY_LOG_LEVEL'] ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LEVELS.join(', ')}; got '${logLevel}'.`);
  const logFormat = flags['log-format'] ?? env['GANTRY_LOG_FORMAT'] ?? (isTty ? 'text' : 'text');
  if (logFormat !== 'text' && logFormat !== 'json') throw new ConfigError(`--log-format must be text or json; got '${logFormat}'.`);
  const dataDir = flags['data-dir'] !== undefined ? resolve(flags['data-dir']) : defaultDataDir(env);
  const storeWriter = flags['store-writer'] ?? env['GANTRY_STORE_WRITER'] ?? 'thread';
  if (storeWriter !== 'inline' && storeWriter !== 'thread') throw new ConfigError(`--store-writer must be inline or thread; got '${storeWriter}'.`);
  const instanceLostAfterMs = duration('--instance-lost-after', flags['instance-lost-after'] ?? env['GANTRY_INSTANCE_LOST_AFTER'] ?? '2m');
  const stoppedTaskRetentionMs = duration('--stopped-task-retention', flags['stopped-task-retention'] ?? env['GANTRY_STOPPED_TASK_RETENTION'] ?? '1h');
  const registryHost = flags['registry-host'] ?? env['GANTRY_REGISTRY_HOST'];
  if (registryHost !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(registryHost)) {
    throw new ConfigError(`--registry-host must be host[:port] as clients reach the server, e.g. registry.example.com:7400; got '${registryHost}'.`);
  }
  const registryMasterKey = env['GANTRY_REGISTRY_MASTER_KEY'] !== undefined && env['GANTRY_REGISTRY_MASTER_KEY'] !== '' ? env['GANTRY_REGISTRY_MASTER_KEY'] : undefined;
  const registryGcIntervalMs = duration('--registry-gc-interval', flags['registry-gc-interval'] ?? env['GANTRY_REGISTRY_GC_INTERVAL'] ?? '1h');
  const registryLifecycleIntervalMs = duration('--registry-lifecycle-interval', flags['registry-lifecycle-interval'] ?? env['GANTRY_REGISTRY_LIFECYCLE_INTERVAL'] ?? '1h');
  return Object.freeze({
    host,
    port,
    dataDir,
    accountId,
    region,
    logLevel,
    logFormat,
    storeWriter,
    instanceLostAfterMs,
    serviceTaskHealthyAfterMs: duration('--service-task-healthy-after', flags['service-task-healthy-after'] ?? env['GANTRY_SERVICE_TASK_HEALTHY_AFTER'] ?? '0s'),
    stoppedTaskRetentionMs,
    registryHost,
    registryMasterKey,
    registryGcIntervalMs,
    registryLifecycleIntervalMs,
  });
}
