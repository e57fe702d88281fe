/** Test helpers: fast-check arbitraries for CQL ASTs and subjects (used only by the *.test.ts files). */
import fc from 'fast-check';
import type { CqlCondition, CqlExpression, CqlField, CqlSubject, CqlSubjectRef } from './ast.js';
import { operatorsFor } from './semantics.js';

export interface PlainSubject {
  attributes: Record<string, string>;
  agentConnected: boolean;
  agentVersion: string | undefined;
  ec2InstanceId: string;
  registeredAt: number;
  runningTasksCount: number;
  groups: string[];
}

export function subjectOf(p: PlainSubject): CqlSubject {
  return {
    attribute: (name) => (Object.hasOwn(p.attributes, name) ? p.attributes[name] : undefined),
    agentConnected: p.agentConnected,
    agentVersion: p.agentVersion,
    ec2InstanceId: p.ec2InstanceId,
    registeredAt: p.registeredAt,
    runningTasksCount: p.runningTasksCount,
    taskGroups: () => new Set(p.groups),
  };
}

export const ATTR_NAMES = ['ecs.instance-type', 'stack', 'ecs.availability-zone'] as const;
export const STRINGS = ['t2.small', 'g2.2xlarge', 'prod', 'us-east-1a', 'service:web', 'and', 'a b', "it's", '"q"', '', '==', '(x)'];
export const REGEXES = ['t2\\..*', 'g2.*', '.*', 'prod|dev', 'us-east-1[ab]', '[a-z]+', 'a b'];
export const VERSIONS = ['1.14.5', '1.14', '1.2.10', '2.0.0', '1.9.99'];
export const DATES = ['2018-02-13', '2018-06-18T22:28:28Z', '2018-06-18T22:28:28', '2018-06-18T22:28:28+02:00', '2018-06-18'];
export const INSTANCES = ['i-abcd1234', 'i-wxyx7890', 'i-0000'];

const fields: readonly CqlField[] = ['agentConnected', 'agentVersion', 'ec2InstanceId', 'registeredAt', 'runningTasksCount', 'task:group'];

const subjectRef: fc.Arbitrary<CqlSubjectRef> = fc.oneof(
  fc.constantFrom(...ATTR_NAMES).map((name): CqlSubjectRef => ({ kind: 'attribute', name })),
  fc.constantFrom(...fields).map((kind): CqlSubjectRef => ({ kind })),
);

function literalFor(ref: CqlSubjectRef, anyString: boolean): fc.Arbitrary<string> {
  switch (ref.kind) {
    case 'agentConnected':
      return fc.constantFrom('true', 'false', 'TRUE');
    case 'agentVersion':
      return fc.constantFrom(...VERSIONS);
    case 'registeredAt':
      return fc.constantFrom(...DATES);
    case 'runningTasksCount':
      return fc.integer({ min: 0, max: 4 }).map(String);
    case 'ec2InstanceId':
      return fc.constantFrom(...INSTANCES);
    default:
      return anyString ? fc.oneof(fc.constantFrom(...STRINGS), fc.string({ maxLength: 6 })) : fc.constantFrom(...STRINGS);
  }
}

/** `anyString`: also arbitrary unicode strings as literals (good for printing, useless for matching). */
export function conditionArb(anyString: boolean): fc.Arbitrary<CqlCondition> {
  return subjectRef.chain((subject) =>
    fc.constantFrom(...operatorsFor(subject)).chain((operator): fc.Arbitrary<CqlCondition> => {
      if (operator === 'exists' || operator === 'not_exists') return fc.constant({ type: 'exists', subject, operator });
      if (operator === 'in' || operator === 'not_in')
        return fc.array(literalFor(subject, anyString), { minLength: 1, maxLength: 3 }).map((values) => ({ type: 'in', subject, operator, values }));
      if (operator === 'matches' || operator === 'not_matches')
        return fc.constantFrom(...REGEXES, ...(subject.kind === 'agentConnected' ? ['true', 'f.*'] : []), ...(subject.kind === 'ec2InstanceId' ? ['i-abcd.*'] : [])).map(
          (value) => ({ type: 'compare', subject, operator, value }),
        );
      return literalFor(subject, anyString).map((value) => ({ type: 'compare', subject, operator, value }));
    }),
  );
}

export function expressionArb(anyString: boolean): fc.Arbitrary<CqlExpression> {
  const { expr } = fc.letrec<{ expr: CqlExpression }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      conditionArb(anyString),
      tie('expr').map((operand): CqlExpression => ({ type: 'not', operand })),
      fc.array(tie('expr'), { minLength: 2, maxLength: 3 }).map((operands): CqlExpression => ({ type: 'and', operands })),
      fc.array(tie('expr'), { minLength: 2, maxLength: 3 }).map((operands): CqlExpression => ({ type: 'or', operands })),
    ),
  }));
  return expr;
}

export const plainSubjectArb: fc.Arbitrary<PlainSubject> = fc.record({
  attributes: fc.dictionary(fc.constantFrom(...ATTR_NAMES), fc.constantFrom(...STRINGS, 'g2.8xlarge', 'us-east-1d', 'dev'), { maxKeys: 3 }),
  agentConnected: fc.boolean(),
  agentVersion: fc.option(fc.constantFrom(...VERSIONS, '1.14.5-rc1', 'v2.0', 'garbage'), { nil: undefined }),
  ec2InstanceId: fc.constantFrom(...INSTANCES),
  registeredAt: fc.constantFrom(1518480000, 1529360908, 1529353708, 1529280000, 1518480001, 0, 2000000000),
  runningTasksCount: fc.integer({ min: 0, max: 4 }),
  groups: fc.uniqueArray(fc.constantFrom(...STRINGS, 'service:production', 'database'), { maxLength: 3 }),
});
