/**
 * `GET /containers/{id}/json` → ContainerStatus. Pure. Docker's zero values are made explicit: a container
 * that never exited has no exit code (ECS reports `exitCode: null` until then), and the zero time
 * `0001-01-01T00:00:00Z` means "not yet".
 */
import type { ContainerState, ContainerStatus, PortBinding } from '../runtime.js';

/** The parts of the engine's inspect answer that Gantry reads. */
export interface ContainerInspect {
  Id: string;
  Name: string;
  Image: string;
  Config: { Image: string; Labels?: Record<string, string> | null; Tty?: boolean };
  State: {
    Status: ContainerState;
    ExitCode: number;
    OOMKilled: boolean;
    Error?: string;
    StartedAt?: string;
    FinishedAt?: string;
    Health?: { Status: 'starting' | 'healthy' | 'unhealthy' | 'none' } | null;
  };
  NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null } | null;
  HostConfig?: { Memory?: number } | null;
}

export function toContainerStatus(c: ContainerInspect, imageDigest?: string): ContainerStatus {
  const exited = c.State.Status === 'exited' || c.State.Status === 'dead';
  const startedAt = dockerTime(c.State.StartedAt);
  const finishedAt = dockerTime(c.State.FinishedAt);
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config.Image,
    ...(imageDigest ? { imageDigest } : {}),
    labels: c.Config.Labels ?? {},
    state: c.State.Status,
    ...(exited ? { exitCode: c.State.ExitCode } : {}),
    oomKilled: c.State.OOMKilled,
    ...(c.State.Error ? { error: c.State.Error } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(finishedAt !== undefined ? { finishedAt } : {}),
    health: c.State.Health?.Status ?? 'none',
    ports: portBindings(c.NetworkSettings?.Ports),
  };
}

/** `{"80/tcp": [{HostIp, HostPort}]}` → one binding per published address (IPv4 and IPv6 each count). */
export function portBindings(ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null | undefined): PortBinding[] {
  const out: PortBinding[] = [];
  for (const [key, bindings] of Object.entries(ports ?? {})) {
    if (!bindings) continue; // exposed but not published
    const [port, proto] = key.split('/');
    for (const b of bindings) {
      out.push({ containerPort: Number(port), hostPort: Number(b.HostPort), protocol: proto === 'udp' ? 'udp' : 'tcp', hostIp: b.HostIp });
    }
  }
  return out.sort((a, b) => a.containerPort - b.containerPort || byCodePoint(a.protocol, b.protocol) || byCodePoint(a.hostIp, b.hostIp));
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** RFC 3339 (nanoseconds) → epoch ms; Go's zero time and unparseable text → undefined. */
export function dockerTime(s: string | undefined): number | undefined {
  if (!s || s.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}
