/**
 * Names that point from one part of a task definition to another must resolve: container → container (links,
 * volumesFrom, dependsOn, proxyConfiguration.containerName), container → volume (mountPoints), container →
 * accelerator (resourceRequirements), and the FireLens pairing between the router and its users.
 *
 * Runs after every container has been normalised (so `essential` and `healthCheck` carry their defaults) and after
 * the volumes have been checked on their own. ClientException throughout, with ECS's wording where it is known.
 */
import type { InferenceAccelerator, ProxyConfiguration, Volume } from '@aws-sdk/client-ecs';
import { Ecs } from '../errors.js';
import type { EffectiveNetworkMode, NormalisedContainerDefinition } from './model.js';

export interface ReferenceScope {
  readonly containers: readonly NormalisedContainerDefinition[];
  readonly volumes: readonly Volume[];
  readonly networkMode: EffectiveNetworkMode;
  readonly proxyConfiguration?: ProxyConfiguration | undefined;
  readonly inferenceAccelerators?: readonly InferenceAccelerator[] | undefined;
}

export function assertReferences(scope: ReferenceScope): void {
  const byName = new Map(scope.containers.map((c) => [c.name, c]));
  const volumeNames = new Set(scope.volumes.map((v) => v.name ?? ''));
  for (const c of scope.containers) {
    checkMountPoints(c, volumeNames);
    checkVolumesFrom(c, byName);
    checkLinks(c, byName);
    checkDependsOn(c, byName);
  }
  assertNoDependencyCycle(scope.containers);
  checkFirelens(scope.containers);
  checkProxy(scope, byName);
  checkAccelerators(scope);
}

function checkMountPoints(c: NormalisedContainerDefinition, volumes: ReadonlySet<string>): void {
  for (const mp of c.mountPoints) {
    const source = mp.sourceVolume ?? '';
    if (!volumes.has(source)) {
      throw Ecs.client(`Invalid 'mountPoints' setting for container '${c.name}'. The source volume '${source}' is not defined in the task definition's volumes.`);
    }
  }
}

function checkVolumesFrom(c: NormalisedContainerDefinition, byName: ReadonlyMap<string, NormalisedContainerDefinition>): void {
  for (const vf of c.volumesFrom) {
    const source = vf.sourceContainer ?? '';
    if (source === c.name || !byName.has(source)) {
      throw Ecs.client(`Invalid 'volumesFrom' setting for container '${c.name}'. The source container '${source}' must be another container in this task definition.`);
    }
  }
}

/** A link is `name` or `name:alias`; the name must be another container of the task (bridge mode is checked per container). */
function checkLinks(c: NormalisedContainerDefinition, byName: ReadonlyMap<string, NormalisedContainerDefinition>): void {
  for (const link of c.links ?? []) {
    const target = link.split(':', 1)[0] ?? '';
    if (target === c.name || !byName.has(target)) {
      throw Ecs.client(`Invalid link '${link}' in container '${c.name}'. The linked container must be another container in this task definition.`);
    }
  }
}

function checkDependsOn(c: NormalisedContainerDefinition, byName: ReadonlyMap<string, NormalisedContainerDefinition>): void {
  for (const dep of c.dependsOn ?? []) {
    const targetName = dep.containerName ?? '';
    const target = byName.get(targetName);
    // ECS's message, including its stray '+', as clients and scripts have seen it (dagster-io/dagster #6926).
    if (target === undefined) throw Ecs.client(`Cannot depend on container + '${targetName}' because it does not exist`);
    // [BC ContainerDependency.condition]: COMPLETE and SUCCESS "can't be set on an essential container" — an
    // essential container that exits would stop the task before the dependent could start.
    if ((dep.condition === 'COMPLETE' || dep.condition === 'SUCCESS') && target.essential) {
      throw Ecs.client('A dependency container with SUCCESS or COMPLETE condition cannot be an essential container');
    }
    // HEALTHY "requires that the dependent container has health checks configured".
    if (dep.condition === 'HEALTHY' && target.healthCheck === undefined) {
      throw Ecs.client(`A dependency container with HEALTHY condition must have a health check configured: container '${targetName}' has none.`);
    }
  }
}

/** dependsOn must be acyclic, or no container of the cycle could ever start. Depth-first search with colours. */
function assertNoDependencyCycle(containers: readonly NormalisedContainerDefinition[]): void {
  const edges = new Map(containers.map((c) => [c.name, (c.dependsOn ?? []).map((d) => d.containerName ?? '')]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name].join(' -> ');
      throw Ecs.client(`Container dependencies (dependsOn) form a cycle: ${cycle}.`);
    }
    state.set(name, 'visiting');
    path.push(name);
    for (const next of edges.get(name) ?? []) visit(next);
    path.pop();
    state.set(name, 'done');
  };
  for (const c of containers) visit(c.name);
}

/** FireLens: one log router per task, and the router and the awsfirelens log driver only make sense together. */
function checkFirelens(containers: readonly NormalisedContainerDefinition[]): void {
  const routers = containers.filter((c) => c.firelensConfiguration !== undefined);
  const users = containers.filter((c) => c.logConfiguration?.logDriver === 'awsfirelens');
  if (routers.length > 1) {
    throw Ecs.client(`Only one container in a task definition can have a firelensConfiguration; found ${routers.map((c) => `'${c.name}'`).join(', ')}.`);
  }
  if (routers.length === 1 && users.length === 0) {
    throw Ecs.client('When a firelensConfiguration object is specified, at least one container has to be configured with the awsfirelens log driver.');
  }
  if (users.length > 0 && routers.length === 0) {
    throw Ecs.client('When awsfirelens log driver is specified in log configuration, a firelens configuration object must be configured in one of the containers.');
  }
}

function checkProxy(scope: ReferenceScope, byName: ReadonlyMap<string, NormalisedContainerDefinition>): void {
  const proxy = scope.proxyConfiguration;
  if (proxy === undefined) return;
  const name = proxy.containerName ?? '';
  if (!byName.has(name)) throw Ecs.client(`Invalid 'proxyConfiguration'. The proxy container '${name}' does not exist in this task definition.`);
  // App Mesh's CNI plugin redirects traffic inside the task's own network namespace, which only awsvpc provides.
  if (scope.networkMode !== 'awsvpc') throw Ecs.client("Invalid 'proxyConfiguration'. A proxy configuration requires networkMode=awsvpc.");
}

function checkAccelerators(scope: ReferenceScope): void {
  const devices = new Set<string>();
  for (const a of scope.inferenceAccelerators ?? []) {
    const name = a.deviceName ?? '';
    if (devices.has(name)) throw Ecs.client(`Invalid 'inferenceAccelerators'. Device name '${name}' is used more than once.`);
    devices.add(name);
  }
  for (const c of scope.containers) {
    for (const r of c.resourceRequirements ?? []) {
      // [BC ResourceRequirement.value]: an InferenceAccelerator value "matches the deviceName for an InferenceAccelerator".
      if (r.type === 'InferenceAccelerator' && !devices.has(r.value ?? '')) {
        throw Ecs.client(`Invalid 'resourceRequirements' setting for container '${c.name}'. No inference accelerator named '${r.value ?? ''}' is defined in the task definition.`);
      }
    }
  }
}
