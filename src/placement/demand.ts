/**
 * What a task needs of an instance, from its definition as it will run (overrides already applied):
 * the rules of ECS-SEMANTICS.md §2.1 step 1.
 *  - CPU and memory: the task-level value when set, else per container its cpu, and its memoryReservation
 *    falling back to memory (the same precedence src/domain/resources.ts accounts with).
 *  - Static host ports: bridge mappings with a non-zero hostPort; host mode binds every mapped port on the
 *    host. awsvpc ports live on the task's own interface, `none` has no ports, and port ranges and hostPort 0
 *    are dynamic: none of those occupy a known host port at placement.
 *  - GPUs: the containers' GPU resourceRequirements.
 */
import type { Attribute } from '@aws-sdk/client-ecs';
import type { TaskDemand } from './types.js';

/** The members of a container definition that reserve something (structural, so SDK and wire shapes both fit). */
export interface DemandContainer {
  readonly cpu?: number | undefined;
  readonly memory?: number | undefined;
  readonly memoryReservation?: number | undefined;
  readonly portMappings?:
    | readonly {
        readonly containerPort?: number | undefined;
        readonly hostPort?: number | undefined;
        readonly protocol?: string | undefined;
        readonly containerPortRange?: string | undefined;
      }[]
    | undefined;
  readonly resourceRequirements?: readonly { readonly type?: string | undefined; readonly value?: string | undefined }[] | undefined;
}

export interface DemandSource {
  readonly networkMode: 'bridge' | 'host' | 'awsvpc' | 'none';
  /** Task-level CPU units / MiB as normalised strings, when the definition (or an override) sets them. */
  readonly cpu?: string | undefined;
  readonly memory?: string | undefined;
  readonly containers: readonly DemandContainer[];
  readonly requiresAttributes?: readonly Attribute[] | undefined;
}

export function demandOf(src: DemandSource): TaskDemand {
  let cpu = 0;
  let memory = 0;
  const tcp = new Set<number>();
  const udp = new Set<number>();
  for (const c of src.containers) {
    cpu += c.cpu ?? 0;
    memory += c.memoryReservation ?? c.memory ?? 0;
    for (const m of c.portMappings ?? []) {
      if (m.containerPortRange !== undefined) continue;
      const port = hostPortOf(src.networkMode, m.hostPort, m.containerPort);
      if (port !== undefined) (m.protocol === 'udp' ? udp : tcp).add(port);
    }
  }
  return {
    cpu: src.cpu !== undefined ? Number(src.cpu) : cpu,
    memory: src.memory !== undefined ? Number(src.memory) : memory,
    portsTcp: [...tcp].sort((a, b) => a - b),
    portsUdp: [...udp].sort((a, b) => a - b),
    gpus: src.containers.reduce((n, c) => n + gpuCount(c), 0),
    requiresAttributes: (src.requiresAttributes ?? []).flatMap((a) => (a.name === undefined ? [] : [a.value === undefined ? { name: a.name } : { name: a.name, value: a.value }])),
  };
}

/** GPUs one container asks for. */
export function gpuCount(c: Pick<DemandContainer, 'resourceRequirements'>): number {
  let n = 0;
  for (const r of c.resourceRequirements ?? []) if (r.type === 'GPU') n += Number(r.value) || 0;
  return n;
}

function hostPortOf(mode: DemandSource['networkMode'], hostPort: number | undefined, containerPort: number | undefined): number | undefined {
  if (mode === 'bridge') return hostPort !== undefined && hostPort > 0 ? hostPort : undefined;
  if (mode === 'host') return hostPort !== undefined && hostPort > 0 ? hostPort : containerPort;
  return undefined;
}
