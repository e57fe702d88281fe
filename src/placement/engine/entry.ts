/**
 * One container instance as the engine keeps it: what it registered (from its record) and what its tasks hold
 * (summed from their records as they change). Plain mutable state owned by a ClusterIndex; nothing here is
 * recomputed from scratch on a placement.
 */
import type { Attribute, Resource } from '@aws-sdk/client-ecs';
import { holdsResources, reservedCpu, reservedGpus, reservedHostPorts, reservedMemory } from '../../domain/resources.js';
import type { TaskReservation } from '../../domain/resources.js';
import type { CqlSubject } from '../cql/index.js';
import { inGroup } from '../snapshot.js';
import type { Candidate } from '../types.js';

/** The members of a container instance record the engine reads. */
export interface InstanceRecordView {
  readonly cluster: string;
  readonly containerInstanceArn: string;
  readonly ec2InstanceId: string;
  readonly status: string;
  readonly agentConnected: boolean;
  /** Records are read as stored: members a partial record lacks count as empty. */
  readonly attributes?: readonly Attribute[] | undefined;
  readonly registeredResources?: readonly Resource[] | undefined;
  readonly versionInfo?: { readonly agentVersion?: string | undefined } | undefined;
  readonly registeredAt: number;
}

/** The members of a task record the engine reads. */
export type TaskRecordView = TaskReservation & {
  readonly cluster: string;
  readonly containerInstanceArn?: string | undefined;
  readonly group?: string | undefined;
};

/** What one task holds on its instance, as numbers the engine adds and takes away. */
export interface Contribution {
  readonly cpu: number;
  readonly memory: number;
  readonly portsTcp: readonly number[];
  readonly portsUdp: readonly number[];
  readonly gpuIds: readonly string[];
  /** Counts toward runningTasksCount (desiredStatus RUNNING, not yet STOPPED). */
  readonly running: boolean;
  /** Counts as a member of `group` on the instance. */
  readonly group: string | undefined;
}

export function contributionOf(t: TaskRecordView): Contribution | undefined {
  const holds = holdsResources(t);
  const running = t.desiredStatus === 'RUNNING' && t.lastStatus !== 'STOPPED';
  if (!holds && !running) return undefined;
  const ports = holds ? reservedHostPorts(t) : { tcp: [], udp: [] };
  return {
    cpu: holds ? reservedCpu(t) : 0,
    memory: holds ? reservedMemory(t) : 0,
    portsTcp: ports.tcp.map(Number),
    portsUdp: ports.udp.map(Number),
    gpuIds: holds ? reservedGpus(t) : [],
    running,
    group: t.group !== undefined && inGroup(t) ? t.group : undefined,
  };
}

export class InstanceEntry {
  /** Index in the cluster's ARN-ordered slot arrays; -1 while absent or the arrays are being rebuilt. */
  slot = -1;
  /** Whether the instance record exists (and is not INACTIVE): tasks may be seen before their instance. */
  present = false;
  status = 'ACTIVE';
  agentConnected = false;
  attributes = new Map<string, string | undefined>();
  attributeList: readonly Attribute[] = [];
  ec2InstanceId = '';
  agentVersion: string | undefined = undefined;
  registeredAt = 0;
  regCpu = 0;
  regMemory = 0;
  regTcp: ReadonlySet<number> = new Set();
  regUdp: ReadonlySet<number> = new Set();
  gpuIds: readonly string[] = [];

  usedCpu = 0;
  usedMemory = 0;
  readonly tcp = new Map<number, number>();
  readonly udp = new Map<number, number>();
  readonly gpusUsed = new Map<string, number>();
  running = 0;
  readonly groups = new Map<string, number>();

  constructor(readonly arn: string) {}

  /** Takes the record's registered side; answers whether anything a memberOf expression or requiresAttributes reads changed. */
  setRecord(r: InstanceRecordView): boolean {
    const staticChanged =
      !this.present ||
      this.status !== r.status ||
      this.agentConnected !== r.agentConnected ||
      this.ec2InstanceId !== r.ec2InstanceId ||
      this.agentVersion !== r.versionInfo?.agentVersion ||
      this.registeredAt !== r.registeredAt ||
      !sameAttributes(this.attributeList, r.attributes ?? []);
    this.present = true;
    this.status = r.status;
    this.agentConnected = r.agentConnected;
    this.ec2InstanceId = r.ec2InstanceId;
    this.agentVersion = r.versionInfo?.agentVersion;
    this.registeredAt = r.registeredAt;
    const attributes = r.attributes ?? [];
    if (this.attributeList !== attributes) {
      this.attributeList = attributes;
      this.attributes = new Map();
      for (const a of attributes) if (a.name !== undefined) this.attributes.set(a.name, a.value);
    }
    const find = (name: string) => (r.registeredResources ?? []).find((x) => x.name === name);
    this.regCpu = find('CPU')?.integerValue ?? 0;
    this.regMemory = find('MEMORY')?.integerValue ?? 0;
    this.regTcp = portSet(find('PORTS'));
    this.regUdp = portSet(find('PORTS_UDP'));
    this.gpuIds = find('GPU')?.stringSetValue ?? [];
    return staticChanged;
  }

  apply(c: Contribution, sign: 1 | -1): void {
    this.usedCpu += sign * c.cpu;
    this.usedMemory += sign * c.memory;
    for (const p of c.portsTcp) bump(this.tcp, p, sign);
    for (const p of c.portsUdp) bump(this.udp, p, sign);
    for (const g of c.gpuIds) bump(this.gpusUsed, g, sign);
    if (c.running) this.running += sign;
    if (c.group !== undefined) bump(this.groups, c.group, sign);
  }

  get freeCpu(): number {
    return this.regCpu - this.usedCpu;
  }
  get freeMemory(): number {
    return this.regMemory - this.usedMemory;
  }
  freeGpus(): string[] {
    return this.gpuIds.filter((g) => !this.gpusUsed.has(g));
  }
  tcpTaken(p: number): boolean {
    return this.regTcp.has(p) || this.tcp.has(p);
  }
  udpTaken(p: number): boolean {
    return this.regUdp.has(p) || this.udp.has(p);
  }
  /** Tasks of `group` on the instance. */
  inGroup(group: string): number {
    return this.groups.get(group) ?? 0;
  }

  /** The instance as the reference pipeline's filters see it: for failure details and explanations. */
  candidate(): Candidate {
    return {
      containerInstanceArn: this.arn,
      status: this.status,
      agentConnected: this.agentConnected,
      attributes: this.attributes,
      ec2InstanceId: this.ec2InstanceId,
      agentVersion: this.agentVersion,
      registeredAt: this.registeredAt,
      runningTasksCount: this.running,
      groups: new Map(this.groups),
      remaining: {
        cpu: this.freeCpu,
        memory: this.freeMemory,
        portsTcp: new Set([...this.regTcp, ...this.tcp.keys()]),
        portsUdp: new Set([...this.regUdp, ...this.udp.keys()]),
        freeGpus: this.freeGpus(),
      },
    };
  }

  /** What the cluster query language sees, read live (memberOf expressions that read tasks). */
  readonly subject: CqlSubject = (() => {
    const self = this;
    return {
      attribute: (name: string) => (self.attributes.has(name) ? (self.attributes.get(name) ?? '') : undefined),
      get agentConnected() {
        return self.agentConnected;
      },
      get agentVersion() {
        return self.agentVersion;
      },
      get ec2InstanceId() {
        return self.ec2InstanceId;
      },
      get registeredAt() {
        return self.registeredAt;
      },
      get runningTasksCount() {
        return self.running;
      },
      taskGroups: () => new Set(self.groups.keys()),
    };
  })();
}

function bump<K>(m: Map<K, number>, k: K, sign: 1 | -1): void {
  const n = (m.get(k) ?? 0) + sign;
  if (n === 0) m.delete(k);
  else m.set(k, n);
}

function portSet(r: Resource | undefined): Set<number> {
  const out = new Set<number>();
  for (const p of r?.stringSetValue ?? []) {
    const n = Number(p);
    if (Number.isInteger(n)) out.add(n);
  }
  return out;
}

function sameAttributes(a: readonly Attribute[], b: readonly Attribute[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.value !== y.value) return false;
  }
  return true;
}
