/**
 * Strategy type → implementation: strategies are data, not branches (STYLE.md). A type missing here is not
 * supported yet; callers refuse it at the edge rather than place tasks some other way.
 * Next: `binpack` (field cpu | memory) and `spread` (instanceId | host | attribute:<name>).
 */
import type { Strategy } from '../types.js';
import { randomStrategy } from './random.js';

export const STRATEGY_TYPES = ['random', 'spread', 'binpack'] as const;
export type StrategyType = (typeof STRATEGY_TYPES)[number];

export const strategies: Readonly<Partial<Record<StrategyType, Strategy>>> = {
  random: randomStrategy,
};

export function strategyFor(type: string): Strategy | undefined {
  return Object.hasOwn(strategies, type) ? strategies[type as StrategyType] : undefined;
}
