/**
 * The runtime calls a managed task makes, each turned into an Outcome instead of a thrown error: the loop
 * receives outcomes as events and never awaits a call itself. Calls that change a container end with an
 * inspection, so the loop learns what the runtime did rather than what was asked.
 */
import type { ContainerRuntime, ContainerSpec, ContainerStatus, PullBehavior, RegistryAuth } from '../runtime/runtime.js';
import { RuntimeError } from '../runtime/runtime.js';
import type { VolumeToCreate } from './container-spec.js';
import type { ImagePuller } from './image-puller.js';

export type Outcome =
  | { readonly kind: 'pulled'; readonly digest: string | undefined }
  | { readonly kind: 'created'; readonly runtimeId: string }
  | { readonly kind: 'observed'; readonly status: ContainerStatus | undefined }
  /** The container cannot run: it stops with this reason. */
  | { readonly kind: 'failed'; readonly reason: string }
  /** A call that may succeed later (stop, inspect): retried. */
  | { readonly kind: 'error'; readonly reason: string };

export async function pull(images: ImagePuller, image: string, behavior: PullBehavior, auth: RegistryAuth | undefined): Promise<Outcome> {
  try {
    return { kind: 'pulled', digest: (await images.ensure(image, behavior, auth)).digest };
  } catch (e) {
    return { kind: 'failed', reason: reasonOf(e, 'CannotPullContainerError') };
  }
}

export async function create(runtime: ContainerRuntime, spec: ContainerSpec, volumes: readonly VolumeToCreate[]): Promise<Outcome> {
  try {
    for (const v of volumes) await runtime.createVolume(v.name, v.driver, v.options, v.labels);
    return { kind: 'created', runtimeId: await runtime.createContainer(spec) };
  } catch (e) {
    return { kind: 'failed', reason: reasonOf(e, 'CannotCreateContainerError') };
  }
}

export async function start(runtime: ContainerRuntime, id: string): Promise<Outcome> {
  try {
    await runtime.startContainer(id);
  } catch (e) {
    return { kind: 'failed', reason: reasonOf(e, 'CannotStartContainerError') };
  }
  return inspect(runtime, id);
}

export async function stop(runtime: ContainerRuntime, id: string, timeoutSec: number): Promise<Outcome> {
  try {
    await runtime.stopContainer(id, timeoutSec);
  } catch (e) {
    return { kind: 'error', reason: reasonOf(e, 'CannotStopContainerError') };
  }
  return inspect(runtime, id);
}

export async function inspect(runtime: ContainerRuntime, id: string): Promise<Outcome> {
  try {
    return { kind: 'observed', status: await runtime.inspectContainer(id) };
  } catch (e) {
    return { kind: 'error', reason: reasonOf(e, 'CannotInspectContainerError') };
  }
}

/** The ECS reason for a failed runtime call: runtime errors already carry their kind as a prefix. */
export function reasonOf(e: unknown, kind: RuntimeError['kind']): string {
  if (e instanceof RuntimeError) return e.message;
  const message = e instanceof Error ? e.message : String(e);
  return `${kind}: ${message}`;
}
