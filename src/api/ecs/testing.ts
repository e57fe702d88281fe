/**
 * Test harness for ECS operations: an in-memory store, a controllable clock and a seeded RNG behind the
 * real operation table, with inputs validated against the model exactly as the protocol layer does.
 * Used by the *.test.ts files beside each operation module.
 */
import { Arns } from '../../domain/arn.js';
import { ApiError } from '../../domain/errors.js';
import { ECS_KINDS } from '../../domain/records.js';
import { loadServiceModel, modelPath, validateInput } from '../../protocol/awsjson/model.js';
import { Catalog } from '../../state/catalog.js';
import { EcsState } from '../../state/ecs-state.js';
import { SqliteStore } from '../../store/sqlite/sqlite-store.js';
import { seededRng } from '../../util/clock.js';
import type { EcsDeps, OperationTable, RequestContext } from './context.js';
import { ecsOperations } from './index.js';

export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'us-west-2';

/** Calls operations as one principal, with model validation. */
export interface TestCaller {
  /** Resolves to the output or rejects with the ApiError. */
  call<T = any>(operation: string, input?: object): Promise<T>;
  /** Expects the call to fail; resolves to the ApiError. */
  fail(operation: string, input?: object): Promise<ApiError>;
}

/** The ECS operations over an in-memory store; `call` and `fail` act as the account's root. */
export interface TestEcs extends TestCaller {
  readonly deps: EcsDeps;
  readonly ops: OperationTable;
  /** Advances the injected clock. */
  tick(ms: number): void;
  /** The same calls made as another principal (the default is the account's root). */
  as(principalArn: string): TestCaller;
  close(): Promise<void>;
}

export async function createTestEcs(opts: { startMs?: number; seed?: number } = {}): Promise<TestEcs> {
  const store = await SqliteStore.open({ path: ':memory:' });
  const catalog = await Catalog.open(store, ECS_KINDS);
  let now = opts.startMs ?? Date.UTC(2026, 0, 1);
  const deps: EcsDeps = {
    state: new EcsState(catalog),
    arns: new Arns(TEST_REGION, TEST_ACCOUNT),
    clock: { now: () => now },
    rng: seededRng(opts.seed ?? 1),
  };
  const ops = ecsOperations(deps);
  const model = loadServiceModel(modelPath('ecs'));
  const as = (principalArn: string): TestCaller => {
    const call = async (operation: string, input: object = {}) => {
      // Round-trip through JSON as the wire does, so tests cannot rely on object identity or undefined members.
      const wireInput = JSON.parse(JSON.stringify(input)) as unknown;
      validateInput(model, operation, wireInput);
      const op = ops[operation];
      if (!op) throw new Error(`operation ${operation} is not implemented`);
      const ctx: RequestContext = { requestId: 'test', principalArn, operation };
      const out = await (op as (i: unknown, c: RequestContext) => Promise<object>)(wireInput, ctx);
      return JSON.parse(JSON.stringify(out));
    };
    const fail = async (operation: string, input: object = {}) => {
      try {
        await call(operation, input);
      } catch (e) {
        if (e instanceof ApiError) return e;
        throw e;
      }
      throw new Error(`${operation} was expected to fail but succeeded`);
    };
    return { call, fail };
  };
  const root = as(`arn:aws:iam::${TEST_ACCOUNT}:root`);
  return {
    deps,
    ops,
    tick: (ms) => {
      now += ms;
    },
    call: root.call,
    fail: root.fail,
    as,
    close: () => store.close(),
  };
}
