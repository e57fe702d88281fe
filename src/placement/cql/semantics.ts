/**
 * Typed interpretation shared by the parser (validation) and the evaluator (comparison). Pure.
 */
import type { CqlField, CqlOperator, CqlSubjectRef } from './ast.js';

export const FIELDS: readonly CqlField[] = [
  'agentConnected',
  'agentVersion',
  'ec2InstanceId',
  'registeredAt',
  'runningTasksCount',
  'task:group',
];

const EQUALITY_SET_REGEX: readonly CqlOperator[] = ['equals', 'not_equals', 'in', 'not_in', 'matches', 'not_matches'];
const ORDERED: readonly CqlOperator[] = [
  'equals',
  'not_equals',
  'greater_than',
  'greater_than_equal',
  'less_than',
  'less_than_equal',
];
const ALL: readonly CqlOperator[] = [...ORDERED, 'in', 'not_in', 'matches', 'not_matches', 'exists', 'not_exists'];

/**
 * Valid operators per subject, as the guide lists them: agentConnected and ec2InstanceId take the equality, set and
 * regex operators; agentVersion, registeredAt and runningTasksCount take equality and ordering. The guide lists no
 * restriction for `attribute:NAME` and `task:group`; they take every operator (ordering compares strings) and are
 * the only subjects for which `exists` / `not_exists` make sense (the others always exist).
 */
export function operatorsFor(subject: CqlSubjectRef): readonly CqlOperator[] {
  switch (subject.kind) {
    case 'agentConnected':
    case 'ec2InstanceId':
      return EQUALITY_SET_REGEX;
    case 'agentVersion':
    case 'registeredAt':
    case 'runningTasksCount':
      return ORDERED;
    case 'attribute':
    case 'task:group':
      return ALL;
  }
}

export function subjectText(subject: CqlSubjectRef): string {
  return subject.kind === 'attribute' ? `attribute:${subject.name}` : subject.kind;
}

/** Integer literal for runningTasksCount. */
export function parseCount(text: string): number | undefined {
  return /^[+-]?\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/**
 * Version: numeric dot-separated segments (`1.14.5`, `1.14`, `2`). A leading `v` and a `-prerelease` / `+build`
 * suffix are ignored when reading an agent's reported version, so `v1.14.5-rc1` compares as 1.14.5. Missing trailing
 * segments count as 0 (`1.14` == `1.14.0`).
 */
export function parseVersion(text: string): readonly number[] | undefined {
  const m = /^v?(\d+(?:\.\d+)*)(?:[-+].*)?$/.exec(text);
  if (m?.[1] === undefined) return undefined;
  return m[1].split('.').map(Number);
}

/** Literal versions are stricter than reported ones: digits and dots only. */
export function parseVersionLiteral(text: string): readonly number[] | undefined {
  return /^\d+(?:\.\d+)*$/.test(text) ? parseVersion(text) : undefined;
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Date literal for registeredAt → epoch seconds. The guide's four forms: `2018-06-18T22:28:28+00:00`,
 * `2018-06-18T22:28:28Z`, `2018-06-18T22:28:28`, `2018-06-18`. A form without a zone is read as UTC; a date alone is
 * midnight UTC, and `==` compares the exact second (so `registeredAt == 2018-06-18` only matches midnight).
 */
export function parseDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})?)?$/.exec(text);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(ms).getUTCDate() !== d) return undefined; // 2018-02-30
  let offset = 0;
  const zone = m[7];
  if (zone !== undefined && zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return undefined;
    offset = (zone.startsWith('-') ? -1 : 1) * (zh * 3600 + zm * 60);
  }
  return ms / 1000 - offset;
}

/** agentConnected literal: `true` / `false`, case-insensitive. */
export function parseBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

/**
 * `matches` / `not_matches` take a Java regular expression that must match the whole value (Pattern.matches). We use
 * JavaScript's engine, anchored: `^(?:re)$`. Common syntax agrees; Java-only constructs (possessive quantifiers,
 * `\p{javaLowerCase}`, …) are rejected at parse time as invalid.
 */
export function compileRegex(text: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${text})$`);
  } catch {
    return undefined;
  }
}
