/**
 * ECR lifecycle policies (pure; no I/O): the rule language, its validation, and which images a policy
 * expires. ECR's evaluation rules, as its user guide states them:
 *   - rules run in rulePriority order, lowest first; a `tagStatus: any` rule must come last;
 *   - an image is expired by at most one rule, and an image that matches the tag selection of a rule can
 *     never be expired by a rule of lower priority — but it still counts toward that rule's image count;
 *   - `tagPrefixList` / `tagPatternList` (wildcard `*`) select tagged images that have a tag matching *every*
 *     entry of the list;
 *   - `imageCountMoreThan` keeps the newest N selected images (by push time); `sinceImagePushed` expires
 *     those pushed more than N days ago.
 */

export interface LifecycleRule {
  readonly rulePriority: number;
  readonly description?: string;
  readonly selection: {
    readonly tagStatus: 'tagged' | 'untagged' | 'any';
    readonly tagPrefixList?: readonly string[];
    readonly tagPatternList?: readonly string[];
    readonly countType: 'imageCountMoreThan' | 'sinceImagePushed';
    readonly countUnit?: 'days';
    readonly countNumber: number;
  };
  readonly action: { readonly type: 'expire' };
}

export interface LifecycleImage {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly pushedAtMs: number;
}

export class LifecyclePolicyError extends Error {
  override name = 'LifecyclePolicyError';
}

const DAY_MS = 24 * 60 * 60 * 1000;

function fail(message: string): never {
  throw new LifecyclePolicyError(`Lifecycle policy validation failure: ${message}`);
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s.length > 0)) fail(`${what} must be a non-empty list of non-empty strings`);
  return v as string[];
}

/** Parses and validates a policy; rules come back in priority order. */
export function parseLifecyclePolicy(text: string): LifecycleRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(`the policy is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { rules?: unknown }).rules)) fail('the policy must be an object with a "rules" list');
  const raw = (doc as { rules: unknown[] }).rules;
  if (raw.length === 0) fail('the policy has no rules');
  const rules = raw.map((r, i): LifecycleRule => {
    const what = `rules[${i}]`;
    if (typeof r !== 'object' || r === null) fail(`${what} must be an object`);
    const rule = r as Record<string, unknown>;
    const priority = rule['rulePriority'];
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 1) fail(`${what}.rulePriority must be a positive integer`);
    if (rule['description'] !== undefined && typeof rule['description'] !== 'string') fail(`${what}.description must be a string`);
    const sel = rule['selection'] as Record<string, unknown> | undefined;
    if (typeof sel !== 'object' || sel === null) fail(`${what}.selection is required`);
    const tagStatus = sel['tagStatus'];
    if (tagStatus !== 'tagged' && tagStatus !== 'untagged' && tagStatus !== 'any') fail(`${what}.selection.tagStatus must be tagged, untagged or any`);
    const prefixes = sel['tagPrefixList'] === undefined ? undefined : stringList(sel['tagPrefixList'], `${what}.selection.tagPrefixList`);
    const patterns = sel['tagPatternList'] === undefined ? undefined : stringList(sel['tagPatternList'], `${what}.selection.tagPatternList`);
    if (tagStatus === 'tagged' && (prefixes === undefined) === (patterns === undefined)) {
      fail(`${what}: a rule with tagStatus tagged needs exactly one of tagPrefixList and tagPatternList`);
    }
    if (tagStatus !== 'tagged' && (prefixes !== undefined || patterns !== undefined)) {
      fail(`${what}: tagPrefixList and tagPatternList are only allowed with tagStatus tagged`);
    }
    for (const p of patterns ?? []) if ((p.match(/\*/g)?.length ?? 0) > 4) fail(`${what}: the pattern '${p}' has more than 4 wildcards`);
    const countType = sel['countType'];
    const countNumber = sel['countNumber'];
    if (countType !== 'imageCountMoreThan' && countType !== 'sinceImagePushed') fail(`${what}.selection.countType must be imageCountMoreThan or sinceImagePushed`);
    if (typeof countNumber !== 'number' || !Number.isInteger(countNumber) || countNumber < 1) fail(`${what}.selection.countNumber must be a positive integer`);
    if (countType === 'sinceImagePushed' && sel['countUnit'] !== 'days') fail(`${what}.selection.countUnit must be days with sinceImagePushed`);
    if (countType === 'imageCountMoreThan' && sel['countUnit'] !== undefined) fail(`${what}.selection.countUnit is not allowed with imageCountMoreThan`);
    const action = rule['action'] as Record<string, unknown> | undefined;
    if (typeof action !== 'object' || action === null || action['type'] !== 'expire') fail(`${what}.action.type must be expire`);
    return {
      rulePriority: priority,
      ...(typeof rule['description'] === 'string' ? { description: rule['description'] } : {}),
      selection: {
        tagStatus,
        ...(prefixes ? { tagPrefixList: prefixes } : {}),
        ...(patterns ? { tagPatternList: patterns } : {}),
        countType,
        ...(countType === 'sinceImagePushed' ? { countUnit: 'days' as const } : {}),
        countNumber,
      },
      action: { type: 'expire' },
    };
  });
  const sorted = [...rules].sort((a, b) => a.rulePriority - b.rulePriority);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.rulePriority === sorted[i - 1]!.rulePriority) fail(`rulePriority ${sorted[i]!.rulePriority} is used by more than one rule`);
  }
  const anyIndex = sorted.findIndex((r) => r.selection.tagStatus === 'any');
  if (anyIndex >= 0 && anyIndex !== sorted.length - 1) fail('a rule with tagStatus any must have the highest rulePriority');
  return sorted;
}

function pattern(p: string): RegExp {
  return new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

function selects(rule: LifecycleRule, image: LifecycleImage): boolean {
  const s = rule.selection;
  if (s.tagStatus === 'any') return true;
  if (s.tagStatus === 'untagged') return image.tags.length === 0;
  if (image.tags.length === 0) return false;
  if (s.tagPrefixList) return s.tagPrefixList.every((p) => image.tags.some((t) => t.startsWith(p)));
  return (s.tagPatternList ?? []).map(pattern).every((re) => image.tags.some((t) => re.test(t)));
}

/** Which images the policy expires, each with the priority of the rule that expires it. */
export function evaluateLifecycle(rules: readonly LifecycleRule[], images: readonly LifecycleImage[], nowMs: number): Map<string, number> {
  const expired = new Map<string, number>();
  const claimed = new Set<string>();
  // Newest first; equal push times fall back to the digest so the outcome never depends on input order.
  const ordered = [...images].sort((a, b) => b.pushedAtMs - a.pushedAtMs || (a.digest < b.digest ? -1 : 1));
  for (const rule of rules) {
    const selected = ordered.filter((i) => selects(rule, i));
    const s = rule.selection;
    const over =
      s.countType === 'imageCountMoreThan'
        ? selected.slice(s.countNumber)
        : selected.filter((i) => nowMs - i.pushedAtMs > s.countNumber * DAY_MS);
    for (const i of over) if (!claimed.has(i.digest) && !expired.has(i.digest)) expired.set(i.digest, rule.rulePriority);
    for (const i of selected) claimed.add(i.digest);
  }
  return expired;
}
