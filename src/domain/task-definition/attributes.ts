/**
 * `requiresAttributes`: the container-instance attributes a task needs, derived from the features its definition
 * uses. Placement (EC2/EXTERNAL) only considers instances whose agent advertised every one of them.
 *
 * The names are the ones the ECS agent advertises (aws/amazon-ecs-agent agent/app/agent_capability.go: the legacy
 * `com.amazonaws.ecs.capability.` prefix for old capabilities, `ecs.capability.` for newer ones). ECS does not
 * publish its feature→attribute mapping; this table follows the developer guide's "requires version X of the
 * Docker Remote API" notes and public describe-task-definition outputs, e.g.
 *   awsvpc → ecs.capability.task-eni; healthCheck → ecs.capability.container-health-check + docker-remote-api.1.24
 *   (1.29 when startPeriod is set); awslogs with options → logging-driver.awslogs + docker-remote-api.1.18/1.19;
 *   ECR image → ecr-auth (+ execution-role-ecr-pull with an execution role); dependsOn/start/stopTimeout →
 *   ecs.capability.container-ordering; ipcMode/pidMode → ecs.capability.pid-ipc-namespace-sharing.
 * Deliberately absent: ecs.capability.task-cpu-mem-limit — real EC2 definitions with task-level cpu/memory do not
 * list it (e.g. a 2021 RegisterTaskDefinition response with requiresCompatibilities EC2, cpu 2048, memory 4096).
 * Docker API versions that public outputs show without a documented trigger (1.17, 1.23, 1.28, 1.32) are not guessed.
 *
 * Output is sorted by name so the stored definition is deterministic (ECS's own order is arbitrary).
 */
import type { Attribute, ContainerDefinition, Secret } from '@aws-sdk/client-ecs';
import type { DraftTaskDefinition } from './launch-types.js';
import { isEcrImage } from './model.js';

const LEGACY = 'com.amazonaws.ecs.capability.';
const CURRENT = 'ecs.capability.';
const dockerApi = (version: string): string => `${LEGACY}docker-remote-api.${version}`;

export function deriveRequiredAttributes(d: DraftTaskDefinition): Attribute[] {
  const names = new Set<string>();
  const add = (name: string): void => void names.add(name);

  if (d.networkMode === 'awsvpc') add(`${CURRENT}task-eni`);
  if (d.taskRoleArn !== undefined) {
    add(`${LEGACY}task-iam-role`);
    // Host-network tasks reach the credentials endpoint through the host's stack, a separate agent capability.
    if (d.networkMode === 'host') add(`${LEGACY}task-iam-role-network-host`);
  }
  if (d.pidMode !== undefined || d.ipcMode !== undefined) add(`${CURRENT}pid-ipc-namespace-sharing`);
  if (d.proxyConfiguration !== undefined) add(`${CURRENT}aws-appmesh`);
  if ((d.inferenceAccelerators?.length ?? 0) > 0) add(`${CURRENT}task-eia`);
  if (d.enableFaultInjection === true) add(`${CURRENT}fault-injection`);

  for (const v of d.volumes) {
    const efs = v.efsVolumeConfiguration;
    if (efs !== undefined) {
      add(`${CURRENT}efs`);
      // Encrypted or authorised mounts go through the agent's EFS volume plugin (efsAuth).
      const auth = efs.authorizationConfig;
      if (efs.transitEncryption === 'ENABLED' || auth?.accessPointId !== undefined || auth?.iam === 'ENABLED') add(`${CURRENT}efsAuth`);
    }
    if (v.dockerVolumeConfiguration !== undefined) add(`${CURRENT}docker-plugin.${v.dockerVolumeConfiguration.driver ?? 'local'}`);
    if (v.fsxWindowsFileServerVolumeConfiguration !== undefined) add(`${CURRENT}fsxWindowsFileServer`);
    if (v.s3filesVolumeConfiguration !== undefined) add(`${CURRENT}storage.s3-files`);
    if (v.configuredAtLaunch === true) add(`${CURRENT}storage.ebs-task-volume-attach`);
  }

  const hasExecutionRole = d.executionRoleArn !== undefined;
  for (const c of d.containerDefinitions) containerAttributes(c, hasExecutionRole, add);

  return [...names].sort().map((name) => ({ name }));
}

function containerAttributes(c: ContainerDefinition, hasExecutionRole: boolean, add: (name: string) => void): void {
  if (isEcrImage(c.image ?? '')) {
    add(`${LEGACY}ecr-auth`);
    if (hasExecutionRole) add(`${CURRENT}execution-role-ecr-pull`);
  }
  if (c.repositoryCredentials !== undefined) add(`${CURRENT}private-registry-authentication.secretsmanager`);
  if (c.privileged === true) add(`${LEGACY}privileged-container`);

  const log = c.logConfiguration;
  if (log?.logDriver !== undefined) {
    add(`${LEGACY}logging-driver.${log.logDriver}`);
    add(dockerApi('1.18')); // logConfiguration itself [DG:task_definition_parameters]
    if (Object.keys(log.options ?? {}).length > 0) add(dockerApi('1.19')); // log options
    if (log.logDriver === 'awslogs' && hasExecutionRole) add(`${CURRENT}execution-role-awslogs`);
    for (const store of secretStores(log.secretOptions)) add(`${CURRENT}secrets.${store}.bootstrap.log-driver`);
  }
  for (const store of secretStores(c.secrets)) add(`${CURRENT}secrets.${store}.environment-variables`);

  if (c.healthCheck !== undefined) {
    add(`${CURRENT}container-health-check`);
    add(dockerApi(c.healthCheck.startPeriod !== undefined ? '1.29' : '1.24'));
  }
  if ((c.dependsOn?.length ?? 0) > 0 || c.startTimeout !== undefined || c.stopTimeout !== undefined) add(`${CURRENT}container-ordering`);
  if (Object.keys(c.dockerLabels ?? {}).length > 0 || (c.ulimits?.length ?? 0) > 0) add(dockerApi('1.18'));
  if (c.linuxParameters?.initProcessEnabled === true) add(dockerApi('1.25'));
  if ((c.environmentFiles?.length ?? 0) > 0) add(`${CURRENT}env-files.s3`);
  if (c.portMappings?.some((m) => m.containerPortRange !== undefined) === true) add(`${CURRENT}network.container-port-range`);
  if (c.restartPolicy?.enabled === true) add(`${CURRENT}container-restart-policy`);

  const firelens = c.firelensConfiguration;
  if (firelens?.type !== undefined) {
    add(`${CURRENT}firelens.${firelens.type}`);
    const fileType = firelens.options?.['config-file-type'];
    if (fileType === 's3' || fileType === 'file') add(`${CURRENT}firelens.options.config.${fileType}`);
  }
  for (const spec of c.credentialSpecs ?? []) {
    add(spec.startsWith('credentialspecdomainless:') ? `${CURRENT}gmsa-domainless` : `${CURRENT}gmsa`);
  }
}

/**
 * Which secret stores a list of secrets reads from. Secrets Manager ARNs contain ':secretsmanager:'; everything else
 * (SSM parameter ARNs, or bare parameter names in the same Region) is Systems Manager Parameter Store.
 */
function secretStores(secrets: readonly Secret[] | undefined): Set<'asm' | 'ssm'> {
  const stores = new Set<'asm' | 'ssm'>();
  for (const s of secrets ?? []) stores.add((s.valueFrom ?? '').includes(':secretsmanager:') ? 'asm' : 'ssm');
  return stores;
}
