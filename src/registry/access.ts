/**
 * Who may do what to a repository: the principal's own permissions, then the repository policy (./policy.ts).
 * The root user holds every ECR permission (as an account's root does); a container instance's agent may only
 * pull (the permissions of ECS's instance role, AmazonEC2ContainerServiceforEC2Role); users hold none of their
 * own until Gantry has IAM-style user policies, so a repository policy must grant them. An explicit Deny in the
 * repository policy beats everything, root included.
 */
import { Ecr } from '../domain/errors.js';
import { evaluatePolicy, parsePolicy } from './policy.js';
import type { Policy } from './policy.js';
import type { RepositoryRecord } from './records.js';

export interface RegistryPrincipal {
  readonly arn: string;
  readonly kind: 'root' | 'user' | 'agent' | 'joiner';
}

export const PULL_ACTIONS: readonly string[] = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:GetAuthorizationToken'];

export class Access {
  readonly #policies = new Map<string, Policy>();

  #policy(text: string): Policy {
    let p = this.#policies.get(text);
    if (p === undefined) {
      p = parsePolicy(text);
      if (this.#policies.size > 1000) this.#policies.clear();
      this.#policies.set(text, p);
    }
    return p;
  }

  allowed(principal: RegistryPrincipal, action: string, repo: RepositoryRecord | undefined): boolean {
    return this.#decide(principal, action, repo) === undefined;
  }

  /** Throws AccessDeniedException (in AWS's words) unless `principal` may do `action` on `repo`. */
  check(principal: RegistryPrincipal, action: string, repo: RepositoryRecord | undefined, resourceArn?: string): void {
    const why = this.#decide(principal, action, repo);
    if (why !== undefined) {
      throw Ecr.accessDenied(`User: ${principal.arn} is not authorized to perform: ${action} on resource: ${repo?.repositoryArn ?? resourceArn ?? '*'} ${why}`);
    }
  }

  #decide(principal: RegistryPrincipal, action: string, repo: RepositoryRecord | undefined): string | undefined {
    const verdict = repo?.policyText !== undefined ? evaluatePolicy(this.#policy(repo.policyText), principal.arn, action) : 'none';
    if (verdict === 'deny') return 'with an explicit deny in a resource-based policy';
    if (verdict === 'allow') return undefined;
    if (principal.kind === 'root') return undefined;
    if (principal.kind === 'agent' && PULL_ACTIONS.includes(action)) return undefined;
    return 'because no resource-based policy allows the ' + action + ' action';
  }
}
