/**
 * What the tasks placed on a container instance hold of it (ECS-SEMANTICS.md §6.6). Pure functions over a
 * task's ECS wire shape, so DescribeContainerInstances (remainingResources, task counts, computed on read)
 * and the placement engine (does this task fit?) can never disagree about what a task holds.
 *
 * Accounting follows ECS: a task holds its reservation from placement until its desiredStatus or lastStatus
 * becomes STOPPED. ECS frees the reservation as soon as a stop is requested, before the containers are gone;
 * the agent bridges that gap by holding newly placed tasks in PENDING until the host really has room.
 */
import type { Container, NetworkBinding, Resource, Task } from '@aws-sdk/client-ecs';

/** The members of one container (its wire shape) that reserve something on the host. */
export type ContainerReservation = Pick<Container, 'cpu' | 'memory' | 'memoryReservation' | 'gpuIds'> & {
  readonly networkBindings?: readonly Pick<NetworkBinding, 'hostPort' | 'hostPortRange' | 'protocol'>[] | undefined;
};

/** The members of a task (its wire shape, as task records hold it) that decide what it holds on its instance. */
export type TaskReservation = Pick<Task, 'desiredStatus' | 'lastStatus' | 'cpu' | 'memory'> & {
  readonly containers?: readonly ContainerReservation[] | undefined;
};

/** Statuses a task passes through on its way to RUNNING: ECS counts these as pending on the instance. */
const PENDING_STATUSES: ReadonlySet<string> = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

export function holdsResources(task: TaskReservation): boolean {
  return task.desiredStatus !== 'STOPPED' && task.lastStatus !== 'STOPPED';
}

/** CPU units the task reserves: the task-level value when set (always so for Fargate), else the containers' sum. */
export function reservedCpu(task: TaskReservation): number {
  if (task.cpu !== undefined) return units(task.cpu);
  let sum = 0;
  for (const c of task.containers ?? []) sum += units(c.cpu);
  return sum;
}

/** MiB the task reserves: the task-level value when set, else per container the soft limit, falling back to the hard one. */
export function reservedMemory(task: TaskReservation): number {
  if (task.memory !== undefined) return units(task.memory);
  let sum = 0;
  for (const c of task.containers ?? []) sum += units(c.memoryReservation ?? c.memory);
  return sum;
}

/** Host ports the task's containers are bound to, as ECS lists them in the PORTS / PORTS_UDP string sets. */
export function reservedHostPorts(task: TaskReservation): { readonly tcp: string[]; readonly udp: string[] } {
  const tcp: string[] = [];
  const udp: string[] = [];
  for (const c of task.containers ?? []) {
    for (const b of c.networkBindings ?? []) {
      const into = b.protocol === 'udp' ? udp : tcp;
      if (b.hostPort !== undefined && b.hostPort > 0) into.push(String(b.hostPort));
      else if (b.hostPortRange !== undefined) into.push(...expandRange(b.hostPortRange));
    }
  }
  return { tcp, udp };
}

export function reservedGpus(task: TaskReservation): string[] {
  return (task.containers ?? []).flatMap((c) => c.gpuIds ?? []);
}

/**
 * `registered` less what `tasks` hold: CPU and MEMORY go down, PORTS and PORTS_UDP (the set of ports in use)
 * gain the tasks' host ports, GPU loses the devices assigned to tasks. Other resources are returned as
 * registered. `tasks` may include tasks that no longer hold anything; they are skipped.
 */
export function remainingResources(registered: readonly Resource[], tasks: Iterable<TaskReservation>): Resource[] {
  let cpu = 0;
  let memory = 0;
  const tcp: string[] = [];
  const udp: string[] = [];
  const gpus = new Set<string>();
  for (const t of tasks) {
    if (!holdsResources(t)) continue;
    cpu += reservedCpu(t);
    memory += reservedMemory(t);
    const ports = reservedHostPorts(t);
    tcp.push(...ports.tcp);
    udp.push(...ports.udp);
    for (const g of reservedGpus(t)) gpus.add(g);
  }
  return registered.map((r) => {
    const out: Resource = { ...r };
    if (r.stringSetValue !== undefined) out.stringSetValue = [...r.stringSetValue];
    switch (r.name) {
      case 'CPU':
        out.integerValue = (r.integerValue ?? 0) - cpu;
        break;
      case 'MEMORY':
        out.integerValue = (r.integerValue ?? 0) - memory;
        break;
      case 'PORTS':
        out.stringSetValue = union(r.stringSetValue ?? [], tcp);
        break;
      case 'PORTS_UDP':
        out.stringSetValue = union(r.stringSetValue ?? [], udp);
        break;
      case 'GPU':
        out.stringSetValue = (r.stringSetValue ?? []).filter((g) => !gpus.has(g));
        break;
    }
    return out;
  });
}

/**
 * The instance's task counters as the ContainerInstance shape defines them: runningTasksCount counts tasks
 * whose desiredStatus is RUNNING (pending ones included), pendingTasksCount those not yet RUNNING.
 */
export function instanceTaskCounts(tasks: Iterable<TaskReservation>): { runningTasksCount: number; pendingTasksCount: number } {
  let runningTasksCount = 0;
  let pendingTasksCount = 0;
  for (const t of tasks) {
    if (t.lastStatus === 'STOPPED') continue;
    if (t.desiredStatus === 'RUNNING') runningTasksCount++;
    if (t.desiredStatus !== 'STOPPED' && t.lastStatus !== undefined && PENDING_STATUSES.has(t.lastStatus)) pendingTasksCount++;
  }
  return { runningTasksCount, pendingTasksCount };
}

/** Task records carry normalised unit strings ("256"); anything unparsable reserves nothing rather than NaN. */
function units(v: string | number | undefined): number {
  if (v === undefined) return 0;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function expandRange(range: string): string[] {
  const m = /^(\d+)-(\d+)$/.exec(range.trim());
  if (!m) return /^\d+$/.test(range.trim()) ? [String(Number(range))] : [];
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo < 1 || hi > 65535 || lo > hi) return [];
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(String(p));
  return out;
}

function union(base: readonly string[], add: readonly string[]): string[] {
  const seen = new Set(base);
  const out = [...base];
  for (const p of add) {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  }
  return out;
}
