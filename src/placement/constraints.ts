/**
 * Placement constraints as pipeline filters, after the built-in ones (ECS-SEMANTICS.md §2.4): `memberOf` keeps the
 * instances its cluster-query-language expression holds for; `distinctInstance` keeps those running no task of the
 * group. Both are binding: an instance that fails one cannot take the task.
 */
import { evaluateCql } from './cql/index.js';
import type { CqlSubject } from './cql/index.js';
import { constraintReason, constraintText } from './options.js';
import type { Constraint } from './options.js';
import type { Candidate, Filter } from './types.js';

export function constraintFilter(c: Constraint, group: string): Filter {
  const reason = constraintReason(c);
  if (c.type === 'memberOf') {
    const detail = `The instance does not match ${constraintText(c)}.`;
    return { name: 'memberOf', check: (candidate) => (evaluateCql(c.ast, subjectOf(candidate)) ? undefined : { reason, detail }) };
  }
  const detail = `The instance already runs a task of group '${group}'.`;
  return { name: 'distinctInstance', check: (candidate) => ((candidate.groups.get(group) ?? 0) > 0 ? { reason, detail } : undefined) };
}

/** What the cluster query language sees of a candidate. */
export function subjectOf(c: Candidate): CqlSubject {
  return {
    attribute: (name) => (c.attributes.has(name) ? (c.attributes.get(name) ?? '') : undefined),
    agentConnected: c.agentConnected,
    agentVersion: c.agentVersion,
    ec2InstanceId: c.ec2InstanceId,
    registeredAt: c.registeredAt,
    runningTasksCount: c.runningTasksCount,
    taskGroups: () => new Set(c.groups.keys()),
  };
}
