/**
 * Port mappings, first per container (shape, network-mode rules, echoed defaults), then across the task
 * (collisions). Sources: [BC PortMapping] and its member docs, [BC ContainerDefinition.portMappings].
 *
 * What ECS stores, by network mode:
 *  - awsvpc / host: hostPort omitted (or 0) becomes the containerPort; any other value must equal it.
 *  - bridge: hostPort omitted is stored as 0, meaning "dynamic ephemeral port" (the form ECS echoes back).
 *  - none: no mappings at all.
 *  - protocol defaults to tcp. containerPortRange mappings keep no hostPort (the range is bound at run time).
 */
import type { PortMapping } from '@aws-sdk/client-ecs';
import { Ecs } from '../errors.js';
import type { EffectiveNetworkMode, NormalisedContainerDefinition } from './model.js';

/** [BC PortMapping.containerPortRange]: "You can specify a maximum of 100 port ranges per container." */
const MAX_RANGES_PER_CONTAINER = 100;
const PORT_RANGE = /^(\d+)-(\d+)$/;

interface Span {
  readonly from: number;
  readonly to: number;
  readonly protocol: string;
}

export function normalisePortMappings(container: string, mappings: readonly PortMapping[] | undefined, mode: EffectiveNetworkMode): PortMapping[] {
  const list = mappings ?? [];
  const prefix = `Invalid 'portMappings' setting for container '${container}'.`;
  if (list.length > 0 && mode === 'none') throw Ecs.client(`${prefix} Port mappings are not allowed when networkMode=none.`);
  const out = list.map((m) => (m.containerPortRange !== undefined ? normaliseRange(container, m, mode) : normaliseSingle(container, m, mode)));
  if (out.filter((m) => m.containerPortRange !== undefined).length > MAX_RANGES_PER_CONTAINER) {
    throw Ecs.client(`${prefix} At most ${MAX_RANGES_PER_CONTAINER} port ranges are allowed per container.`);
  }
  // [BC PortMapping]: "You can't expose the same container port for multiple protocols" and, for ranges, "A port
  // can only be included in one port mapping per container" / "You cannot specify overlapping port ranges".
  const spans = out.map(spanOf);
  spans.forEach((a, i) => {
    const clash = spans.slice(i + 1).find((b) => a.from <= b.to && b.from <= a.to);
    if (clash !== undefined) {
      const port = Math.max(a.from, clash.from);
      throw Ecs.client(`${prefix} Container port ${port} appears in more than one port mapping; a port can be mapped only once per container, whatever its protocol.`);
    }
  });
  return out;
}

function normaliseSingle(container: string, m: PortMapping, mode: EffectiveNetworkMode): PortMapping {
  const containerPort = m.containerPort;
  if (containerPort === undefined || !isPort(containerPort, 1)) throw Ecs.client(`Invalid 'containerPort' setting for container '${container}'.`);
  if (m.hostPort !== undefined && !isPort(m.hostPort, 0)) throw Ecs.client(`Invalid 'hostPort' setting for container '${container}'.`);
  let hostPort = m.hostPort ?? 0;
  if (mode === 'awsvpc' || mode === 'host') {
    // Omitted or 0 is "unset" here; ECS fills in the container port (static mapping on the task ENI or the host).
    if (hostPort === 0) hostPort = containerPort;
    if (hostPort !== containerPort) throw Ecs.client(`When networkMode=${mode}, the host ports and container ports in port mappings must match.`);
  }
  return { ...m, containerPort, hostPort, protocol: m.protocol ?? 'tcp' };
}

function normaliseRange(container: string, m: PortMapping, mode: EffectiveNetworkMode): PortMapping {
  const prefix = `Invalid 'containerPortRange' setting for container '${container}'.`;
  if (mode !== 'bridge' && mode !== 'awsvpc') throw Ecs.client(`${prefix} Port ranges require networkMode=bridge or networkMode=awsvpc.`);
  if (m.containerPort !== undefined || m.hostPort !== undefined) {
    throw Ecs.client(`${prefix} Do not specify 'containerPort' or 'hostPort' together with 'containerPortRange'.`);
  }
  const range = parseRange(m.containerPortRange ?? '');
  if (range === undefined) {
    throw Ecs.client(`${prefix} Use 'first-last' with ports between 1 and 65535 and the first port lower than the last; got '${m.containerPortRange ?? ''}'.`);
  }
  return { ...m, protocol: m.protocol ?? 'tcp' };
}

function parseRange(text: string): { from: number; to: number } | undefined {
  const match = PORT_RANGE.exec(text);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const from = Number(match[1]);
  const to = Number(match[2]);
  return isPort(from, 1) && isPort(to, 1) && from < to ? { from, to } : undefined;
}

function spanOf(m: PortMapping): Span {
  const protocol = m.protocol ?? 'tcp';
  if (m.containerPortRange !== undefined) {
    const range = parseRange(m.containerPortRange);
    if (range !== undefined) return { ...range, protocol };
  }
  const port = m.containerPort ?? 0;
  return { from: port, to: port, protocol };
}

function isPort(value: number, min: number): boolean {
  return Number.isInteger(value) && value >= min && value <= 65535;
}

/**
 * Collisions between containers of one task. With awsvpc and host every container shares one network namespace,
 * so a container port (per protocol) may be claimed by one container only. With bridge each container has its own
 * namespace and only static host ports (non-zero hostPort) can collide, anywhere in the task.
 */
export function assertNoPortConflicts(containers: readonly NormalisedContainerDefinition[], mode: EffectiveNetworkMode): void {
  const claimed: { span: Span; container: string }[] = [];
  for (const c of containers) {
    for (const m of c.portMappings) {
      const span = sharedSpan(m, mode);
      if (span === undefined) continue;
      const clash = claimed.find((o) => o.span.protocol === span.protocol && o.span.from <= span.to && span.from <= o.span.to);
      if (clash !== undefined) {
        const port = `${Math.max(span.from, clash.span.from)}/${span.protocol}`;
        const where = clash.container === c.name ? `twice in container '${c.name}'` : `by both container '${clash.container}' and container '${c.name}'`;
        throw Ecs.client(
          mode === 'bridge'
            ? `Host port ${port} is mapped ${where}; a static host port can be used only once per task.`
            : `Port ${port} is mapped ${where}; with networkMode=${mode} all containers share one network namespace.`,
        );
      }
      claimed.push({ span, container: c.name });
    }
  }
}

/** The part of a mapping that occupies a port shared with other containers, if any. */
function sharedSpan(m: PortMapping, mode: EffectiveNetworkMode): Span | undefined {
  if (mode === 'bridge') {
    const host = m.hostPort ?? 0;
    return m.containerPortRange === undefined && host !== 0 ? { from: host, to: host, protocol: m.protocol ?? 'tcp' } : undefined;
  }
  return spanOf(m);
}
