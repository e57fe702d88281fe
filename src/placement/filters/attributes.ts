/**
 * requiresAttributes: the capabilities the task definition needs (derived at registration) must all be
 * advertised by the instance's agent; a value, when the requirement has one, must match too.
 */
import type { Filter } from '../types.js';

export const attributesFilter: Filter = {
  name: 'attributes',
  check(c, demand) {
    const missing: string[] = [];
    for (const a of demand.requiresAttributes) {
      const has = c.attributes.has(a.name);
      if (!has || (a.value !== undefined && c.attributes.get(a.name) !== a.value)) missing.push(a.value === undefined ? a.name : `${a.name}=${a.value}`);
    }
    if (missing.length === 0) return undefined;
    return {
      reason: 'ATTRIBUTE',
      detail: `The instance lacks attribute${missing.length > 1 ? 's' : ''} the task definition requires: ${missing.join(', ')}.`,
      shortfall: missing.length,
    };
  },
};
