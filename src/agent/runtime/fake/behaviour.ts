/**
 * What a fake container "does", since it runs no process. A container's behaviour comes from its
 * `com.gantry.fake.behaviour` label (JSON), so a scale test can script hollow tasks through ordinary
 * task definition `dockerLabels`, else from the fake's default; the fake's control API changes it at run time.
 */

export const FAKE_BEHAVIOUR_LABEL = 'com.gantry.fake.behaviour';

export type FakeStep =
  | { readonly afterMs: number; readonly log: string; readonly stream?: 'stdout' | 'stderr' }
  | { readonly afterMs: number; readonly exit: number }
  | { readonly afterMs: number; readonly oom: true };

export interface FakeBehaviour {
  /** Steps timed from each start: log lines, an exit, an OOM kill. Without an exit step it runs until stopped. */
  readonly script?: readonly FakeStep[];
  /** Ignores the stop signal, so a stop waits out its timeout and kills (exit 137). */
  readonly ignoreStopSignal?: boolean;
  /** Starting fails with this message, as Docker's does for a missing executable. */
  readonly startError?: string;
  /** The outcome of every health check, when the spec has one. Default: pass. */
  readonly health?: 'pass' | 'fail';
}

export function behaviourLabel(b: FakeBehaviour): Record<string, string> {
  return { [FAKE_BEHAVIOUR_LABEL]: JSON.stringify(b) };
}

/** The container's behaviour: its label if it has a valid one, else the default. */
export function behaviourOf(labels: Readonly<Record<string, string>>, fallback: FakeBehaviour): FakeBehaviour {
  const raw = labels[FAKE_BEHAVIOUR_LABEL];
  if (raw === undefined) return fallback;
  try {
    const b = JSON.parse(raw) as FakeBehaviour;
    return b && typeof b === 'object' ? b : fallback;
  } catch {
    return fallback;
  }
}

/** Exit status of a process ended by `signal` (128 + its number), as Docker reports it. */
export function signalExitCode(signal: string | undefined): number {
  const name = (signal ?? 'SIGTERM').toUpperCase().replace(/^SIG/, '');
  const n = /^\d+$/.test(name) ? Number(name) : SIGNALS[name];
  return 128 + (n ?? 15);
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, TERM: 15, WINCH: 28 };
