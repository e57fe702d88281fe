/**
 * Optional behaviour plugs into the managed-task loop through hooks instead of branches inside it. The loop
 * asks each hook in turn; a feature is a hook in this list, and removing it removes the feature.
 */
import type { ContainerDef } from './container-spec.js';

export interface ContainerExit {
  readonly name: string;
  readonly def: ContainerDef | undefined;
  readonly exitCode: number | undefined;
  /** When the run that just ended began (epoch ms, from the runtime). */
  readonly startedAtMs: number | undefined;
  readonly nowMs: number;
  readonly restarts: number;
}

export interface TaskHook {
  readonly name: string;
  /**
   * A container exited on its own (nobody asked it to stop) while it and its task should be running.
   * Returning 'restart' starts it again in place instead of letting the exit take effect.
   */
  onContainerExit?(exit: ContainerExit): 'restart' | undefined;
}

const DEFAULT_ATTEMPT_PERIOD_S = 300;

/**
 * ECS `restartPolicy` (the agent's RestartTracker): restart unless the exit code is ignored, and only if the
 * run lasted at least restartAttemptPeriod, so a container that crashes at once is not restarted in a loop
 * and its exit stops the task as usual.
 */
export function shouldRestart(exit: ContainerExit): { restart: boolean; why: string } {
  const policy = exit.def?.restartPolicy;
  if (policy?.enabled !== true) return { restart: false, why: 'restart policy is not enabled' };
  if (exit.exitCode === undefined) return { restart: false, why: 'exit code is unknown' };
  if ((policy.ignoredExitCodes ?? []).includes(exit.exitCode)) return { restart: false, why: `exit code ${exit.exitCode} is ignored` };
  const periodMs = (policy.restartAttemptPeriod ?? DEFAULT_ATTEMPT_PERIOD_S) * 1000;
  if (exit.startedAtMs === undefined || exit.nowMs - exit.startedAtMs < periodMs) {
    return { restart: false, why: 'it ran for less than restartAttemptPeriod' };
  }
  return { restart: true, why: '' };
}

export const restartPolicyHook: TaskHook = {
  name: 'restart-policy',
  onContainerExit: (exit) => (shouldRestart(exit).restart ? 'restart' : undefined),
};

export const DEFAULT_HOOKS: readonly TaskHook[] = [restartPolicyHook];
