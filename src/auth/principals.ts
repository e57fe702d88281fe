import type { SigningSecret } from './sigv4.js';

/** Who made a request: the identity a verified signature or token maps to. */
export interface Principal {
  /** e.g. arn:aws:iam::<account>:root, or a container instance ARN for an agent. */
  readonly arn: string;
  /**
   * root: the account's root key. user: an IAM-style user. joiner: the cluster join token, which may only
   * register container instances. agent: a container instance's own credentials, which may only act for it.
   */
  readonly kind: 'root' | 'user' | 'joiner' | 'agent';
  /** For agents: the container instance the credentials are limited to. */
  readonly scope?: { readonly cluster: string; readonly containerInstanceArn: string };
}

export interface Credential extends SigningSecret {
  readonly accessKeyId: string;
  readonly principal: Principal;
}

/**
 * Access keys Gantry accepts, by access key id. The root key is added at start; agent keys are added as
 * instances join. Lookups happen on every request, so this is a plain Map.
 */
export class CredentialRegistry {
  readonly #byId = new Map<string, Credential>();

  add(credential: Credential): void {
    this.#byId.set(credential.accessKeyId, credential);
  }

  remove(accessKeyId: string): void {
    this.#byId.delete(accessKeyId);
  }

  lookup = (accessKeyId: string): Credential | undefined => this.#byId.get(accessKeyId);
}
