/**
 * ARNs of the taggable ECS resources (ECS-SEMANTICS.md §8.4) → the catalog record they name. Tagging is the
 * first user; anything else that takes a bare `resourceArn` (resource-level authorization, events) needs the
 * same mapping, so it lives here once.
 *
 * Only the long format is accepted: Gantry never issues short ARNs, and ECS itself refuses them for tagging
 * ("Long arn format must be used for tagging operations").
 */
import { NAME_PATTERN, parseArn } from '../../domain/arn.js';
import type { Arns } from '../../domain/arn.js';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import { instanceKey, taskDefinitionKey } from '../../state/ecs-state.js';

export type EcsResourceType = 'cluster' | 'container-instance' | 'task' | 'service' | 'task-definition' | 'capacity-provider' | 'task-set';

export interface ResourceRef {
  readonly arn: string;
  readonly type: EcsResourceType;
  /** The catalog kind holding the record; absent for types Gantry keeps no records of yet (capacity providers, task sets). */
  readonly kind?: Kind;
  readonly key: string;
  /** The owning cluster of a cluster-scoped resource; for a cluster, its own name. */
  readonly cluster?: string;
}

/** Readable names, for messages. */
export const RESOURCE_LABEL: Readonly<Record<EcsResourceType, string>> = {
  cluster: 'cluster',
  'container-instance': 'container instance',
  task: 'task',
  service: 'service',
  'task-definition': 'task definition',
  'capacity-provider': 'capacity provider',
  'task-set': 'task set',
};

const LONG_FORMAT: Readonly<Record<string, string>> = {
  'container-instance': 'container-instance/<cluster>/<containerInstanceId>',
  task: 'task/<cluster>/<taskId>',
  service: 'service/<cluster>/<serviceName>',
  'task-set': 'task-set/<cluster>/<serviceName>/<taskSetId>',
};

/**
 * Maps an ECS resource ARN of this account and region to its type, catalog kind and key. Says nothing about
 * whether the resource exists. Anything else — not an ARN, another account, region or service, a legacy short
 * ARN, a type that is not a resource of its own — is InvalidParameterException with the reason.
 */
export function resolveResourceArn(arns: Arns, arn: string): ResourceRef {
  const p = parseArn(arn);
  if (!p) throw Ecs.invalidParameter(`The ARN provided is invalid: '${arn}' is not of the form arn:<partition>:ecs:<region>:<account>:<type>/<id>.`);
  if (p.service !== 'ecs') throw Ecs.invalidParameter(`The ARN provided is invalid: '${arn}' is not an Amazon ECS resource.`);
  if (p.partition !== arns.partition || p.accountId !== arns.accountId || p.region !== arns.region) {
    throw Ecs.invalidParameter(`The ARN provided is invalid: '${arn}' does not belong to account ${arns.accountId} in ${arns.region}.`);
  }
  const invalid = (why: string) => Ecs.invalidParameter(`The ARN provided is invalid: ${why} ('${arn}').`);
  const parts = p.resource.split('/');
  const named = (s: string | undefined): s is string => s !== undefined && NAME_PATTERN.test(s);

  switch (p.resourceType) {
    case 'cluster': {
      const [name] = parts;
      if (parts.length !== 1 || !named(name)) throw invalid('a cluster ARN ends in cluster/<clusterName>');
      return { arn, type: 'cluster', kind: Kind.cluster, key: name, cluster: name };
    }
    case 'container-instance':
    case 'task':
    case 'service': {
      const type = p.resourceType;
      if (parts.length === 1) throw longFormatRequired(arn, type);
      const [cluster, id] = parts;
      if (parts.length !== 2 || !named(cluster) || !named(id)) throw invalid(`a ${RESOURCE_LABEL[type]} ARN ends in ${LONG_FORMAT[type]}`);
      if (type === 'container-instance') return { arn, type, kind: Kind.containerInstance, key: instanceKey(cluster, id), cluster };
      return { arn, type, kind: type === 'task' ? Kind.task : Kind.service, key: `${cluster}/${id}`, cluster };
    }
    case 'task-definition': {
      const colon = p.resource.lastIndexOf(':');
      const family = p.resource.slice(0, colon);
      const revText = p.resource.slice(colon + 1);
      const revision = Number(revText);
      if (colon < 0 || !named(family) || !/^[1-9]\d*$/.test(revText) || !Number.isSafeInteger(revision)) {
        throw invalid('a task definition ARN ends in task-definition/<family>:<revision>');
      }
      return { arn, type: 'task-definition', kind: Kind.taskDefinition, key: taskDefinitionKey(family, revision) };
    }
    case 'capacity-provider': {
      const [name] = parts;
      if (parts.length !== 1 || !named(name)) throw invalid('a capacity provider ARN ends in capacity-provider/<name>');
      return { arn, type: 'capacity-provider', key: name };
    }
    case 'task-set': {
      // Task set ids contain a slash themselves (`ecs-svc/<digits>`), so everything after the service is the id.
      const [cluster, service] = parts;
      const id = parts.slice(2).join('/');
      if (parts.length < 3 || !named(cluster) || !named(service) || !/^[A-Za-z0-9_\-/]{1,255}$/.test(id)) {
        throw invalid(`a task set ARN ends in ${LONG_FORMAT['task-set']}`);
      }
      return { arn, type: 'task-set', key: `${cluster}/${service}/${id}`, cluster };
    }
    default:
      throw Ecs.invalidParameter(
        `The ARN provided is invalid: '${p.resourceType}' is not a taggable resource type ('${arn}'). ` +
          'Supported: cluster, container-instance, task, service, task-definition, capacity-provider, task-set.',
      );
  }
}

function longFormatRequired(arn: string, type: string) {
  return Ecs.invalidParameter(`Long arn format must be used: '${arn}' is a legacy short ARN; the long form ends in ${LONG_FORMAT[type] ?? type}.`);
}
