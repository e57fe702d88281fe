/**
 * Strategy type → implementation, for the reference pipeline: strategies are data, not branches (STYLE.md).
 * Fields are checked and normalised at the edge (../options.ts).
 */
import type { Strategy } from '../types.js';
import { binpackStrategy } from './binpack.js';
import { randomStrategy } from './random.js';
import { spreadStrategy } from './spread.js';

export const STRATEGY_TYPES = ['random', 'spread', 'binpack'] as const;
export type StrategyType = (typeof STRATEGY_TYPES)[number];

export const strategies: Readonly<Record<StrategyType, Strategy>> = {
  random: randomStrategy,
  spread: spreadStrategy,
  binpack: binpackStrategy,
};

export function strategyFor(type: string): Strategy | undefined {
  return Object.hasOwn(strategies, type) ? strategies[type as StrategyType] : undefined;
}
