/**
 * What a container instance offers (its registeredResources) and what the tasks placed on it hold of it
 * (ECS-SEMANTICS.md §6.6). Pure functions over the ECS wire shapes, so DescribeContainerInstances
 * (remainingResources and task counts, computed on read) and the placement engine (does this task fit?) can
 * never disagree about what a task holds.
 *
 * Accounting follows ECS: a task holds its reservation from placement until its desiredStatus or lastStatus
 * becomes STOPPED. ECS frees the reservation as soon as a stop is requested, before the containers are gone;
 * the agent bridges that gap by holding newly placed tasks in PENDING until the host really has room.
 */
import type { Container, NetworkBinding, PlatformDevice, Resource, Task } from '@aws-sdk/client-ecs';
import { Ecs } from './errors.js';

/** The members of one container (its wire shape) that reserve something on the host. */
export type ContainerReservation = Pick<Container, 'cpu' | 'memory' | 'memoryReservation' | 'gpuIds'> & {
  readonly networkBindings?: readonly Pick<NetworkBinding, 'hostPort' | 'hostPortRange' | 'protocol'>[] | undefined;
};

/** What placement reserved for a task (TaskRecord.reservation in ./task.ts): CPU units, MiB, static host ports, GPU ids. */
export interface PlacementReservation {
  readonly cpu: number;
  readonly memory: number;
  readonly portsTcp: readonly number[];
  readonly portsUdp: readonly number[];
  readonly gpuIds: readonly string[];
}

/**
 * The members of a task (its wire shape, as task records hold it) that decide what it holds on its instance.
 * A task placed by Gantry carries `reservation`, which then decides alone: its static host ports are held
 * from placement on, long before the agent reports any binding, and the dynamic ports Docker later binds are
 * not reserved (ECS shows only user-specified host ports in remainingResources [BC PortMapping]). Records
 * without one are read from their wire shape.
 */
export type TaskReservation = Pick<Task, 'desiredStatus' | 'lastStatus' | 'cpu' | 'memory'> & {
  readonly containers?: readonly ContainerReservation[] | undefined;
  readonly reservation?: PlacementReservation | undefined;
};

/** Statuses a task passes through on its way to RUNNING: ECS counts these as pending on the instance. */
const PENDING_STATUSES: ReadonlySet<string> = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

export function holdsResources(task: TaskReservation): boolean {
  return task.desiredStatus !== 'STOPPED' && task.lastStatus !== 'STOPPED';
}

/** CPU units the task reserves: the task-level value when set (always so for Fargate), else the containers' sum. */
export function reservedCpu(task: TaskReservation): number {
  if (task.reservation !== undefined) return task.reservation.cpu;
  if (task.cpu !== undefined) return units(task.cpu);
  let sum = 0;
  for (const c of task.containers ?? []) sum += units(c.cpu);
  return sum;
}

/** MiB the task reserves: the task-level value when set, else per container the soft limit, falling back to the hard one. */
export function reservedMemory(task: TaskReservation): number {
  if (task.reservation !== undefined) return task.reservation.memory;
  if (task.memory !== undefined) return units(task.memory);
  let sum = 0;
  for (const c of task.containers ?? []) sum += units(c.memoryReservation ?? c.memory);
  return sum;
}

/** Host ports the task's containers are bound to, as ECS lists them in the PORTS / PORTS_UDP string sets. */
export function reservedHostPorts(task: TaskReservation): { readonly tcp: string[]; readonly udp: string[] } {
  if (task.reservation !== undefined) return { tcp: task.reservation.portsTcp.map(String), udp: task.reservation.portsUdp.map(String) };
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
  if (task.reservation !== undefined) return [...task.reservation.gpuIds];
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

// ---------------------------------------------------------------------------------------------------------------
// What an instance registers

const RESOURCE_TYPES: ReadonlySet<string> = new Set(['INTEGER', 'DOUBLE', 'LONG', 'STRINGSET']);
/** The resources ECS itself interprets, and the type each must have. */
const KNOWN_RESOURCE_TYPES: ReadonlyMap<string, string> = new Map([
  ['CPU', 'INTEGER'],
  ['MEMORY', 'INTEGER'],
  ['PORTS', 'STRINGSET'],
  ['PORTS_UDP', 'STRINGSET'],
  ['GPU', 'STRINGSET'],
]);
const PORT_RESOURCES: ReadonlySet<string> = new Set(['PORTS', 'PORTS_UDP']);

/**
 * totalResources as registeredResources: every numeric member present (as ECS returns them), PORTS and
 * PORTS_UDP always there (empty when the agent reserves nothing), GPUs from platformDevices as a GPU set.
 */
export function registeredResourcesOf(total: readonly Resource[] | undefined, devices: readonly PlatformDevice[] | undefined): Resource[] {
  const out = new Map<string, Resource>();
  (total ?? []).forEach((r, i) => {
    const where = `totalResources[${i}]`;
    const name = r.name;
    if (name === undefined || name === '') throw Ecs.invalidParameter(`${where}.name is required, e.g. CPU, MEMORY, PORTS or PORTS_UDP.`);
    if (out.has(name)) throw Ecs.invalidParameter(`totalResources lists '${name}' more than once; give each resource once.`);
    const type = r.type;
    if (type === undefined || !RESOURCE_TYPES.has(type)) {
      throw Ecs.invalidParameter(`${where} ('${name}') has type '${type ?? ''}'; the type must be one of INTEGER, DOUBLE, LONG, STRINGSET.`);
    }
    const expected = KNOWN_RESOURCE_TYPES.get(name);
    if (expected !== undefined && type !== expected) throw Ecs.invalidParameter(`Resource '${name}' must have type ${expected}, not ${type}.`);
    out.set(name, resourceOf(r, name, type, where));
  });
  for (const name of ['CPU', 'MEMORY']) {
    if (!out.has(name)) {
      throw Ecs.invalidParameter(
        `totalResources must include ${name} (type INTEGER): ${name === 'CPU' ? 'the CPU units tasks may use, 1024 per core' : 'the MiB of memory tasks may use'}.`,
      );
    }
  }
  for (const name of PORT_RESOURCES) if (!out.has(name)) out.set(name, { name, type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: [] });
  const gpus = gpuIds(devices);
  if (gpus.length > 0) {
    const given = out.get('GPU')?.stringSetValue ?? [];
    out.set('GPU', { name: 'GPU', type: 'STRINGSET', doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: [...new Set([...given, ...gpus])] });
  }
  return [...out.values()];
}

function resourceOf(r: Resource, name: string, type: string, where: string): Resource {
  const base = { name, type, doubleValue: 0, longValue: 0, integerValue: 0 };
  const amount = (v: number | undefined, member: string, integer: boolean): number => {
    if (v === undefined) throw Ecs.invalidParameter(`${where} ('${name}') is of type ${type} and needs ${member}.`);
    if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
      throw Ecs.invalidParameter(`${where} ('${name}') has ${member} ${v}; it must be a non-negative ${integer ? 'integer' : 'number'}.`);
    }
    return v;
  };
  switch (type) {
    case 'INTEGER':
      return { ...base, integerValue: amount(r.integerValue, 'integerValue', true) };
    case 'LONG':
      return { ...base, longValue: amount(r.longValue, 'longValue', true) };
    case 'DOUBLE':
      return { ...base, doubleValue: amount(r.doubleValue, 'doubleValue', false) };
    default: {
      const set = [...new Set(r.stringSetValue ?? [])];
      if (PORT_RESOURCES.has(name)) {
        for (const p of set) {
          if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) {
            throw Ecs.invalidParameter(`${where} ('${name}') lists '${p}'; reserved ports are numbers from 1 to 65535.`);
          }
        }
        return { ...base, stringSetValue: [...new Set(set.map((p) => String(Number(p))))] };
      }
      return { ...base, stringSetValue: set };
    }
  }
}

function gpuIds(devices: readonly PlatformDevice[] | undefined): string[] {
  const ids: string[] = [];
  for (const d of devices ?? []) {
    if (d.type !== 'GPU' || d.id === undefined) continue;
    if (ids.includes(d.id)) throw Ecs.invalidParameter(`platformDevices lists GPU '${d.id}' more than once.`);
    ids.push(d.id);
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

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
