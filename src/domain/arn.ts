/**
 * ECS and ECR resource names in the long ARN format (ECS-SEMANTICS.md §8.4), for one account and region.
 * Every API parameter that names a cluster, instance, task, service or task definition accepts a short
 * name/id or a full ARN; the resolvers here turn either into the short form, and refuse ARNs of another
 * account, region or resource type.
 */
export interface ParsedArn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  /** e.g. 'cluster', 'task', 'container-instance', 'task-definition', 'repository' */
  readonly resourceType: string;
  /** Everything after `<resourceType>/`, e.g. 'my-cluster/0123…' */
  readonly resource: string;
}

export function parseArn(arn: string): ParsedArn | undefined {
  if (!arn.startsWith('arn:')) return undefined;
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  const [, partition, service, region, accountId] = parts as [string, string, string, string, string];
  const rest = parts.slice(5).join(':');
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { partition, service, region, accountId, resourceType: rest.slice(0, slash), resource: rest.slice(slash + 1) };
}

export class Arns {
  readonly #prefix: string;
  readonly #ecrPrefix: string;
  constructor(
    readonly region: string,
    readonly accountId: string,
    readonly partition = 'aws',
  ) {
    this.#prefix = `arn:${partition}:ecs:${region}:${accountId}:`;
    this.#ecrPrefix = `arn:${partition}:ecr:${region}:${accountId}:`;
  }
  cluster(name: string): string {
    return `${this.#prefix}cluster/${name}`;
  }
  containerInstance(cluster: string, id: string): string {
    return `${this.#prefix}container-instance/${cluster}/${id}`;
  }
  task(cluster: string, id: string): string {
    return `${this.#prefix}task/${cluster}/${id}`;
  }
  container(cluster: string, taskId: string, containerId: string): string {
    return `${this.#prefix}container/${cluster}/${taskId}/${containerId}`;
  }
  service(cluster: string, name: string): string {
    return `${this.#prefix}service/${cluster}/${name}`;
  }
  taskDefinition(family: string, revision: number): string {
    return `${this.#prefix}task-definition/${family}:${revision}`;
  }
  capacityProvider(name: string): string {
    return `${this.#prefix}capacity-provider/${name}`;
  }
  serviceDeployment(cluster: string, service: string, id: string): string {
    return `${this.#prefix}service-deployment/${cluster}/${service}/${id}`;
  }
  serviceRevision(cluster: string, service: string, id: string): string {
    return `${this.#prefix}service-revision/${cluster}/${service}/${id}`;
  }
  repository(name: string): string {
    return `${this.#ecrPrefix}repository/${name}`;
  }

  /** Parses an ARN and checks that it belongs to this account and region and to `service`. */
  own(arn: string, service: 'ecs' | 'ecr' = 'ecs'): ParsedArn | undefined {
    const p = parseArn(arn);
    if (!p || p.service !== service || p.region !== this.region || p.accountId !== this.accountId || p.partition !== this.partition) {
      return undefined;
    }
    return p;
  }
}

/** `[A-Za-z0-9_-]{1,255}`: cluster, service, family and container names. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
export const isArn = (s: string): boolean => s.startsWith('arn:');
