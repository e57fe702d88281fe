/**
 * ContainerSpec → the body of `POST /containers/create` (Engine API 1.41). Pure, so every field's mapping is
 * unit-tested without an engine. The choices follow what the ECS agent does with the same task definition
 * fields, so a definition behaves here as it does on ECS.
 */
import type { ContainerSpec, MountSpec } from '../runtime.js';

const MiB = 1024 * 1024;
const NS_PER_SEC = 1_000_000_000;
/** The kernel's floor for cpu.shares; ECS sends it for containers that asked for 0 or 1 CPU units. */
const MIN_CPU_SHARES = 2;

/** The subset of the Engine API's ContainerConfig + HostConfig that Gantry sets. */
export interface CreateContainerBody {
  Image: string;
  Labels: Record<string, string>;
  Env: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
  Hostname?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Healthcheck?: { Test: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
  StopSignal?: string;
  OpenStdin?: boolean;
  Tty?: boolean;
  HostConfig: HostConfig;
}

export interface HostConfig {
  NetworkMode: string;
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
  Links?: string[];
  Dns?: string[];
  DnsSearch?: string[];
  ExtraHosts?: string[];
  CpuShares?: number;
  Memory?: number;
  MemoryReservation?: number;
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  Init?: boolean;
  CapAdd?: string[];
  CapDrop?: string[];
  ShmSize?: number;
  Binds?: string[];
  Mounts?: { Type: 'volume'; Source?: string; Target: string; ReadOnly: boolean }[];
  Tmpfs?: Record<string, string>;
  VolumesFrom?: string[];
  LogConfig?: { Type: string; Config: Record<string, string> };
  SecurityOpt?: string[];
  Sysctls?: Record<string, string>;
  PidMode?: string;
  IpcMode?: string;
}

export function toCreateBody(spec: ContainerSpec): CreateContainerBody {
  const host: HostConfig = { NetworkMode: spec.networkMode, ...ports(spec), ...mounts(spec.mounts) };
  if (spec.links?.length) host.Links = [...spec.links];
  if (spec.dnsServers?.length) host.Dns = [...spec.dnsServers];
  if (spec.dnsSearchDomains?.length) host.DnsSearch = [...spec.dnsSearchDomains];
  if (spec.extraHosts?.length) host.ExtraHosts = spec.extraHosts.map((h) => `${h.hostname}:${h.ipAddress}`);
  if (spec.cpuShares !== undefined) host.CpuShares = Math.max(MIN_CPU_SHARES, spec.cpuShares);
  if (spec.memoryMiB !== undefined) host.Memory = spec.memoryMiB * MiB;
  if (spec.memoryReservationMiB !== undefined) host.MemoryReservation = spec.memoryReservationMiB * MiB;
  if (spec.ulimits?.length) host.Ulimits = spec.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }));
  if (spec.privileged !== undefined) host.Privileged = spec.privileged;
  if (spec.readonlyRootFilesystem !== undefined) host.ReadonlyRootfs = spec.readonlyRootFilesystem;
  if (spec.initProcessEnabled !== undefined) host.Init = spec.initProcessEnabled;
  if (spec.capabilities?.add.length) host.CapAdd = [...spec.capabilities.add];
  if (spec.capabilities?.drop.length) host.CapDrop = [...spec.capabilities.drop];
  if (spec.sharedMemoryMiB !== undefined) host.ShmSize = spec.sharedMemoryMiB * MiB;
  if (spec.volumesFrom?.length) host.VolumesFrom = spec.volumesFrom.map((v) => `${v.containerId}:${v.readOnly ? 'ro' : 'rw'}`);
  if (spec.logDriver) host.LogConfig = { Type: spec.logDriver.driver, Config: { ...spec.logDriver.options } };
  if (spec.dockerSecurityOptions?.length) host.SecurityOpt = [...spec.dockerSecurityOptions];
  if (spec.systemControls?.length) host.Sysctls = Object.fromEntries(spec.systemControls.map((s) => [s.namespace, s.value]));
  if (spec.pidMode) host.PidMode = spec.pidMode;
  if (spec.ipcMode) host.IpcMode = spec.ipcMode;

  const body: CreateContainerBody = {
    Image: spec.image,
    Labels: { ...spec.labels },
    Env: Object.entries(spec.environment).map(([k, v]) => `${k}=${v}`),
    HostConfig: host,
  };
  if (spec.command) body.Cmd = [...spec.command];
  if (spec.entryPoint) body.Entrypoint = [...spec.entryPoint];
  if (spec.workingDirectory) body.WorkingDir = spec.workingDirectory;
  if (spec.user) body.User = spec.user;
  if (spec.hostname) body.Hostname = spec.hostname;
  if (host.PortBindings) body.ExposedPorts = Object.fromEntries(Object.keys(host.PortBindings).map((k) => [k, {}]));
  if (spec.healthCheck) {
    const h = spec.healthCheck;
    body.Healthcheck = {
      Test: [...h.test],
      Interval: Math.round(h.intervalSec * NS_PER_SEC),
      Timeout: Math.round(h.timeoutSec * NS_PER_SEC),
      Retries: h.retries,
      StartPeriod: Math.round(h.startPeriodSec * NS_PER_SEC),
    };
  }
  if (spec.stopSignal) body.StopSignal = spec.stopSignal;
  if (spec.interactive !== undefined) body.OpenStdin = spec.interactive;
  if (spec.pseudoTerminal !== undefined) body.Tty = spec.pseudoTerminal;
  return body;
}

/**
 * Bridge mode publishes ports; an empty HostPort lets the engine choose an ephemeral one (ECS's dynamic
 * host port). Host and none modes publish nothing: in host mode the container port is the host port, and
 * the engine rejects bindings there.
 */
function ports(spec: ContainerSpec): Pick<HostConfig, 'PortBindings'> {
  if (spec.networkMode !== 'bridge' || spec.portMappings.length === 0) return {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of spec.portMappings) {
    const key = `${p.containerPort}/${p.protocol}`;
    (bindings[key] ??= []).push({ HostIp: '', HostPort: p.hostPort ? String(p.hostPort) : '' });
  }
  return { PortBindings: bindings };
}

/**
 * Host paths go through Binds, not Mounts: ECS promises that a missing sourcePath is created on the host,
 * which Binds does and a Mounts bind (before API 1.42) refuses. Named and anonymous volumes go through
 * Mounts. tmpfs goes through HostConfig.Tmpfs because only there can it carry mount options on API 1.41.
 */
function mounts(list: readonly MountSpec[]): Pick<HostConfig, 'Binds' | 'Mounts' | 'Tmpfs'> {
  const out: Pick<HostConfig, 'Binds' | 'Mounts' | 'Tmpfs'> = {};
  for (const m of list) {
    if (m.type === 'bind') {
      if (!m.source) throw new Error(`bind mount at ${m.target} has no source path`);
      (out.Binds ??= []).push(`${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
    } else if (m.type === 'volume') {
      (out.Mounts ??= []).push({ Type: 'volume', ...(m.source ? { Source: m.source } : {}), Target: m.target, ReadOnly: m.readOnly });
    } else {
      const opts = [m.readOnly ? 'ro' : 'rw', ...(m.sizeMiB ? [`size=${m.sizeMiB}m`] : []), ...(m.mountOptions ?? [])];
      (out.Tmpfs ??= {})[m.target] = opts.join(',');
    }
  }
  return out;
}
