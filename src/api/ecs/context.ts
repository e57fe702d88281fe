import type { Arns } from '../../domain/arn.js';
import type { Clock, Rng } from '../../util/clock.js';
import type { EcsState } from '../../state/ecs-state.js';

/** What every ECS operation module is constructed with (one deps object; STYLE.md). */
export interface EcsDeps {
  readonly state: EcsState;
  readonly arns: Arns;
  readonly clock: Clock;
  readonly rng: Rng;
}

/** Per-request facts the protocol layer hands to an operation. */
export interface RequestContext {
  readonly requestId: string;
  /** ARN of the authenticated principal (root user, IAM-style user, or a container instance's agent). */
  readonly principalArn: string;
  readonly operation: string;
}

/** An operation: wire input (already type-checked against the model) → wire output. */
export type Operation = (input: never, ctx: RequestContext) => Promise<object>;
export type OperationTable = Readonly<Record<string, Operation>>;
