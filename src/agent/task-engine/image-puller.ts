/**
 * Image pulls for every task on the instance: the pull behaviour (ECS_IMAGE_PULL_BEHAVIOR), registry auth per
 * registry host, and one pull per image at a time however many containers want it.
 */
import type { ContainerRuntime, PullBehavior, RegistryAuth } from '../runtime/runtime.js';
import { RuntimeError } from '../runtime/runtime.js';
import type { Logger } from '../../util/log.js';

export interface PulledImage {
  readonly digest?: string;
  /** True when the cached copy was used (by policy, or because a `default` pull failed). */
  readonly cached: boolean;
}

export class ImagePuller {
  readonly #runtime: ContainerRuntime;
  readonly #logger: Logger;
  readonly #inFlight = new Map<string, Promise<{ digest?: string }>>();

  constructor(deps: { runtime: ContainerRuntime; logger: Logger }) {
    this.#runtime = deps.runtime;
    this.#logger = deps.logger;
  }

  /**
   * Makes `image` available. Throws RuntimeError('CannotPullContainerError', …) when it cannot be had:
   *   default        pull; if that fails and a copy is cached, use it
   *   always         pull; a failure is a failure
   *   once           pull only if there is no cached copy (ECS: "pulled only if not pulled before")
   *   prefer-cached  use a cached copy if there is one, else pull
   */
  async ensure(image: string, behavior: PullBehavior, auth?: RegistryAuth): Promise<PulledImage> {
    if (behavior === 'once' || behavior === 'prefer-cached') {
      if (await this.#runtime.hasImage(image)) return { cached: true };
      return { ...(await this.#pull(image, auth)), cached: false };
    }
    try {
      return { ...(await this.#pull(image, auth)), cached: false };
    } catch (e) {
      if (behavior === 'default' && (await this.#runtime.hasImage(image).catch(() => false))) {
        this.#logger.warn('image pull failed; using the cached image', { image, error: (e as Error).message });
        return { cached: true };
      }
      throw e instanceof RuntimeError ? e : new RuntimeError('CannotPullContainerError', (e as Error).message);
    }
  }

  #pull(image: string, auth: RegistryAuth | undefined): Promise<{ digest?: string }> {
    const running = this.#inFlight.get(image);
    if (running !== undefined) return running;
    const p = this.#runtime.pullImage(image, auth).finally(() => this.#inFlight.delete(image));
    this.#inFlight.set(image, p);
    return p;
  }
}

/**
 * The registry an image reference names (Docker's rule: the first path component, if it looks like a host),
 * or undefined for Docker Hub.
 */
export function registryHost(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/** Credentials the server sent for the image's registry, in the runtime's shape. */
export function authFor(image: string, registryAuth: Readonly<Record<string, { username: string; password: string }>> | undefined): RegistryAuth | undefined {
  const host = registryHost(image);
  if (host === undefined || registryAuth === undefined) return undefined;
  const a = registryAuth[host];
  return a === undefined ? undefined : { username: a.username, password: a.password, serverAddress: host };
}
