/**
 * Helpers shared by this folder's tests: every rule is checked for its exact AWS exception name and a fragment of
 * its message, and rule files that work on normalised containers get them from one stub. Test support only.
 */
import assert from 'node:assert/strict';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import { ApiError } from '../errors.js';
import { cloneWire } from './model.js';
import type { NormalisedContainerDefinition } from './model.js';

export function expectApiError(fn: () => unknown, code: string, fragment: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, `wrong exception for message ${JSON.stringify(err.message)}`);
    assert.ok(err.message.includes(fragment), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(fragment)}`);
    return true;
  });
}

/** A container as normaliseContainer would leave it, with `extra` laid over the defaults (undefined members dropped). */
export function stubContainer(name: string, extra: Partial<ContainerDefinition> = {}): NormalisedContainerDefinition {
  const defaults: NormalisedContainerDefinition = {
    name,
    image: 'nginx',
    cpu: 0,
    essential: true,
    portMappings: [],
    environment: [],
    mountPoints: [],
    volumesFrom: [],
    systemControls: [],
  };
  return Object.assign(defaults, cloneWire(extra));
}
