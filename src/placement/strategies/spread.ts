/**
 * `spread` on `instanceId` (alias `host`) or `attribute:<name>`: the instances whose value of the field has the
 * fewest tasks of the group — counted over every instance of the cluster, not only those that fit — so the
 * group's tasks even out across the field's values [DG:task-placement-strategies]. Instances without the
 * attribute form a bucket of their own (the guide does not say; this keeps them usable, and even).
 */
import type { Candidate, Strategy } from '../types.js';

export const spreadStrategy: Strategy = {
  narrow(candidates, rule, { group, all }) {
    const field = rule.field ?? 'instanceId';
    const bucket = bucketOf(field);
    const counts = new Map<string, number>();
    for (const c of all) {
      const n = c.groups.get(group) ?? 0;
      if (n > 0) counts.set(bucket(c), (counts.get(bucket(c)) ?? 0) + n);
    }
    let fewest = Infinity;
    for (const c of candidates) fewest = Math.min(fewest, counts.get(bucket(c)) ?? 0);
    return candidates.filter((c) => (counts.get(bucket(c)) ?? 0) === fewest);
  },
};

/** The field's value for an instance, as a bucket key: the ARN for instanceId; `=value` or `-` (absent) for an attribute. */
export function bucketOf(field: string): (c: Candidate) => string {
  if (field === 'instanceId' || field === 'host') return (c) => c.containerInstanceArn;
  const name = field.slice('attribute:'.length);
  return (c) => attributeBucket(c.attributes, name);
}

/** An attribute's bucket: `=value` (a name-only attribute is `=`), or `-` when the instance lacks it. */
export function attributeBucket(attributes: ReadonlyMap<string, string | undefined>, name: string): string {
  return attributes.has(name) ? `=${attributes.get(name) ?? ''}` : '-';
}
