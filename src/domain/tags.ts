import type { Tag } from '@aws-sdk/client-ecs';
import { Ecs } from './errors.js';

/** Resource tags as ECS validates them (ECS-SEMANTICS.md §1.2): shapes and lengths are also checked by the model. */
export const MAX_TAGS = 50;
const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export interface WireTag {
  key: string;
  value: string;
}

/** Validates user tags and returns them normalised (value defaults to ''); duplicate keys: the last wins. */
export function validateTags(tags: readonly Tag[] | undefined, what = 'tags'): WireTag[] {
  if (tags === undefined) return [];
  const byKey = new Map<string, string>();
  for (const t of tags) {
    const key = t.key;
    if (key === undefined || key.length < 1 || key.length > 128) {
      throw Ecs.invalidParameter(`Invalid ${what}: each tag key must be 1-128 characters.`);
    }
    const value = t.value ?? '';
    if (value.length > 256) throw Ecs.invalidParameter(`Invalid ${what}: the value of tag '${key}' is longer than 256 characters.`);
    if (!TAG_PATTERN.test(key) || !TAG_PATTERN.test(value)) {
      throw Ecs.invalidParameter(
        `Invalid ${what}: tag '${key}' may contain only letters, numbers, spaces and the characters _ . : / = + - @.`,
      );
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw Ecs.invalidParameter(`Invalid ${what}: the 'aws:' prefix is reserved for AWS use (tag '${key}').`);
    }
    byKey.set(key, value);
  }
  if (byKey.size > MAX_TAGS) throw Ecs.invalidParameter(`Invalid ${what}: a resource can have at most ${MAX_TAGS} tags; got ${byKey.size}.`);
  return [...byKey].map(([key, value]) => ({ key, value }));
}

/** Merges `add` into `existing` (same key: the new value wins), keeping the order keys were first added. */
export function mergeTags(existing: readonly WireTag[], add: readonly WireTag[]): WireTag[] {
  const m = new Map(existing.map((t) => [t.key, t.value]));
  for (const t of add) m.set(t.key, t.value);
  return [...m].map(([key, value]) => ({ key, value }));
}
