/**
 * Agent options, compiled once at the edge from flags and environment into one frozen, typed object. Only
 * this file (and the CLI) read the environment; the agent gets everything from here.
 */
import { networkInterfaces, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { PullBehavior } from '../agent/runtime/runtime.js';
import type { LogLevel } from '../util/log.js';
import { ConfigError, defaultDataDir, duration } from './server-config.js';

export { duration };

export interface AccessKeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface FakeFleetConfig {
  readonly instances: number;
  /** CPU units and MiB each hollow instance reports. */
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly zones: readonly string[];
  readonly instanceTypes: readonly string[];
  /** How long a fake container takes to start. */
  readonly startDelayMs: number;
}

export interface AgentConfig {
  /** The server, e.g. http://127.0.0.1:7400. */
  readonly endpoint: string;
  readonly cluster: string;
  readonly region: string;
  /** Signs the registration: the join token's key, else an access key from the environment. */
  readonly registrationKey?: AccessKeyPair;
  readonly zone?: string;
  readonly instanceType?: string;
  readonly attributes: readonly { readonly name: string; readonly value?: string }[];
  readonly reservedMemoryMiB: number;
  readonly reservedPorts: readonly number[];
  readonly reservedPortsUdp: readonly number[];
  readonly stateDir: string;
  readonly runtime: 'docker' | 'fake';
  readonly dockerHost: string;
  readonly containerStopTimeoutSec: number;
  readonly containerStartTimeoutSec: number;
  readonly containerCleanupAfterMs: number;
  readonly imagePullBehavior: PullBehavior;
  readonly logLevel: LogLevel;
  readonly logFormat: 'text' | 'json';
  readonly fake?: FakeFleetConfig;
}

export interface AgentFlags {
  endpoint?: string | undefined;
  cluster?: string | undefined;
  region?: string | undefined;
  'join-token'?: string | undefined;
  zone?: string | undefined;
  'instance-type'?: string | undefined;
  attribute?: string[] | undefined;
  'reserved-memory'?: string | undefined;
  'reserved-ports'?: string | undefined;
  'reserved-ports-udp'?: string | undefined;
  'state-dir'?: string | undefined;
  runtime?: string | undefined;
  'docker-host'?: string | undefined;
  'container-stop-timeout'?: string | undefined;
  'container-start-timeout'?: string | undefined;
  'container-cleanup-after'?: string | undefined;
  'image-pull-behavior'?: string | undefined;
  'log-level'?: string | undefined;
  'log-format'?: string | undefined;
  instances?: string | undefined;
  cpu?: string | undefined;
  memory?: string | undefined;
  zones?: string | undefined;
  'instance-types'?: string | undefined;
  'start-delay'?: string | undefined;
}

/** ECS_RESERVED_PORTS' default on Linux: ssh, the Docker daemon, the ECS agent's introspection and credentials ports. */
export const DEFAULT_RESERVED_PORTS: readonly number[] = [22, 2375, 2376, 51678, 51679];

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const PULL_BEHAVIORS: readonly PullBehavior[] = ['default', 'always', 'once', 'prefer-cached'];
const CLUSTER = /^[A-Za-z0-9_-]{1,255}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export interface CompileEnv {
  readonly env: NodeJS.ProcessEnv;
  /** This host's names and addresses, to tell whether the server runs here (its port is then reserved). */
  readonly localAddresses?: readonly string[];
}

export function compileAgentConfig(flags: AgentFlags, { env, localAddresses = hostAddresses() }: CompileEnv): AgentConfig {
  const endpointText = flags.endpoint ?? env['GANTRY_ENDPOINT'];
  if (endpointText === undefined || endpointText === '') {
    throw new ConfigError('--endpoint is required: the Gantry server to join, e.g. --endpoint http://10.0.0.5:7400 (env GANTRY_ENDPOINT).');
  }
  let endpoint: URL;
  try {
    endpoint = new URL(endpointText);
  } catch {
    throw new ConfigError(`--endpoint must be a URL like http://10.0.0.5:7400; got '${endpointText}'.`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new ConfigError(`--endpoint must use http or https; got '${endpointText}'.`);
  }
  const cluster = flags.cluster ?? env['GANTRY_CLUSTER'] ?? env['ECS_CLUSTER'] ?? 'default';
  if (!CLUSTER.test(cluster)) throw new ConfigError(`--cluster must be 1-255 letters, numbers, hyphens or underscores; got '${cluster}'.`);
  const region = flags.region ?? env['GANTRY_REGION'] ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  if (!REGION.test(region)) throw new ConfigError(`--region must look like an AWS region, e.g. us-east-1; got '${region}'.`);

  const registrationKey = registrationKeyOf(flags['join-token'] ?? env['GANTRY_JOIN_TOKEN'], env);
  const attributes = (flags.attribute ?? []).map(parseAttribute);
  const zone = flags.zone ?? env['GANTRY_ZONE'];
  const instanceType = flags['instance-type'] ?? env['GANTRY_INSTANCE_TYPE'];
  for (const [flag, v] of [['--zone', zone], ['--instance-type', instanceType]] as const) {
    if (v !== undefined && !/^[A-Za-z0-9\-_.@/\\:]{1,128}$/.test(v)) throw new ConfigError(`${flag} must be 1-128 letters, numbers or -_.@/\\:; got '${v}'.`);
  }

  const reservedMemoryMiB = integer('--reserved-memory', flags['reserved-memory'] ?? env['GANTRY_RESERVED_MEMORY'] ?? '0', 0, 1 << 30);
  const port = Number(endpoint.port || (endpoint.protocol === 'https:' ? 443 : 80));
  const serverIsLocal = isLocal(endpoint.hostname, localAddresses);
  const reservedPorts = portList('--reserved-ports', flags['reserved-ports'], [...DEFAULT_RESERVED_PORTS, ...(serverIsLocal ? [port] : [])]);
  const reservedPortsUdp = portList('--reserved-ports-udp', flags['reserved-ports-udp'], []);

  const runtime = flags.runtime ?? env['GANTRY_RUNTIME'] ?? 'docker';
  if (runtime !== 'docker' && runtime !== 'fake') throw new ConfigError(`--runtime must be docker or fake; got '${runtime}'.`);
  const stateDir =
    flags['state-dir'] !== undefined ? resolve(flags['state-dir'])
    : env['GANTRY_AGENT_STATE_DIR'] ? resolve(env['GANTRY_AGENT_STATE_DIR'])
    : join(defaultDataDir(env), runtime === 'fake' ? 'hollow-agents' : 'agent');

  const containerStopTimeoutSec = duration('--container-stop-timeout', flags['container-stop-timeout'] ?? env['GANTRY_CONTAINER_STOP_TIMEOUT'] ?? '30s') / 1000;
  const containerStartTimeoutSec = duration('--container-start-timeout', flags['container-start-timeout'] ?? '3m') / 1000;
  const containerCleanupAfterMs = duration('--container-cleanup-after', flags['container-cleanup-after'] ?? env['GANTRY_CONTAINER_CLEANUP_AFTER'] ?? '1h');
  const imagePullBehavior = (flags['image-pull-behavior'] ?? env['GANTRY_IMAGE_PULL_BEHAVIOR'] ?? 'default') as PullBehavior;
  if (!PULL_BEHAVIORS.includes(imagePullBehavior)) throw new ConfigError(`--image-pull-behavior must be one of ${PULL_BEHAVIORS.join(', ')}; got '${imagePullBehavior}'.`);
  const logLevel = (flags['log-level'] ?? env['GANTRY_LOG_LEVEL'] ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LEVELS.join(', ')}; got '${logLevel}'.`);
  const logFormat = flags['log-format'] ?? env['GANTRY_LOG_FORMAT'] ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new ConfigError(`--log-format must be text or json; got '${logFormat}'.`);

  const fakeFlags = (['instances', 'cpu', 'memory', 'zones', 'instance-types', 'start-delay'] as const).filter((f) => flags[f] !== undefined);
  if (runtime !== 'fake' && fakeFlags.length > 0) throw new ConfigError(`--${fakeFlags[0]} is only for --runtime fake.`);
  const config: AgentConfig = {
    endpoint: endpoint.origin,
    cluster,
    region,
    ...(registrationKey !== undefined ? { registrationKey } : {}),
    ...(zone !== undefined ? { zone } : {}),
    ...(instanceType !== undefined ? { instanceType } : {}),
    attributes,
    reservedMemoryMiB,
    reservedPorts,
    reservedPortsUdp,
    stateDir,
    runtime,
    dockerHost: flags['docker-host'] ?? env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock',
    containerStopTimeoutSec,
    containerStartTimeoutSec,
    containerCleanupAfterMs,
    imagePullBehavior,
    logLevel,
    logFormat,
    ...(runtime === 'fake' ? { fake: fakeConfig(flags, zone, instanceType) } : {}),
  };
  return Object.freeze(config);
}

function fakeConfig(flags: AgentFlags, zone: string | undefined, instanceType: string | undefined): FakeFleetConfig {
  const list = (v: string | undefined, fallback: string) => (v ?? fallback).split(',').map((s) => s.trim()).filter((s) => s !== '');
  const zones = list(flags.zones, zone ?? 'zone-a');
  const instanceTypes = list(flags['instance-types'], instanceType ?? 'gantry.hollow');
  if (zones.length === 0) throw new ConfigError('--zones needs at least one zone, e.g. --zones a,b,c.');
  if (instanceTypes.length === 0) throw new ConfigError('--instance-types needs at least one type.');
  return Object.freeze({
    instances: integer('--instances', flags.instances ?? '1', 1, 100_000),
    cpu: integer('--cpu', flags.cpu ?? '2048', 1, 1 << 24),
    memoryMiB: integer('--memory', flags.memory ?? '4096', 1, 1 << 30),
    zones,
    instanceTypes,
    startDelayMs: integer('--start-delay', flags['start-delay'] ?? '0', 0, 3_600_000),
  });
}

/** `--join-token <accessKeyId>:<secretAccessKey>`, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
function registrationKeyOf(token: string | undefined, env: NodeJS.ProcessEnv): AccessKeyPair | undefined {
  if (token !== undefined && token !== '') {
    const i = token.indexOf(':');
    if (i <= 0 || i === token.length - 1) {
      throw new ConfigError("--join-token must look like '<accessKeyId>:<secretAccessKey>' (run 'gantry join-token' on the server).");
    }
    return { accessKeyId: token.slice(0, i).trim(), secretAccessKey: token.slice(i + 1).trim() };
  }
  const id = env['AWS_ACCESS_KEY_ID'];
  const secret = env['AWS_SECRET_ACCESS_KEY'];
  return id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined;
}

function parseAttribute(text: string): { name: string; value?: string } {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? undefined : text.slice(eq + 1);
  if (!/^[A-Za-z0-9\-_/\\.]{1,128}$/.test(name)) {
    throw new ConfigError(`--attribute name must be 1-128 letters, numbers, hyphens, underscores, slashes or periods; got '${text}'.`);
  }
  if (name.startsWith('ecs.') || name.startsWith('com.amazonaws.ecs.')) {
    throw new ConfigError(`--attribute '${name}': names starting with ecs. or com.amazonaws.ecs. are set by the agent itself.`);
  }
  if (value !== undefined && !/^[A-Za-z0-9\-_.@/\\: ]{1,128}$/.test(value)) {
    throw new ConfigError(`--attribute value must be 1-128 letters, numbers, spaces or -_.@/\\:; got '${text}'.`);
  }
  return value === undefined ? { name } : { name, value };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new ConfigError(`${flag} must be a whole number from ${min} to ${max}; got '${text}'.`);
  return n;
}

function portList(flag: string, text: string | undefined, fallback: readonly number[]): number[] {
  if (text === undefined) return [...new Set(fallback)].sort((a, b) => a - b);
  if (text.trim() === '') return [];
  return [...new Set(text.split(',').map((p) => integer(flag, p.trim(), 1, 65535)))].sort((a, b) => a - b);
}


function isLocal(host: string, addresses: readonly string[]): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.startsWith('127.') || h === '::1' || h === '0.0.0.0' || addresses.some((a) => a.toLowerCase() === h);
}

function hostAddresses(): string[] {
  const out = [hostname()];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.push(a.address);
  return out;
}
