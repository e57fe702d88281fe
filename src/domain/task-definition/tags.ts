/**
 * Tags on RegisterTaskDefinition. The limits every ECS resource shares (≤ 50, key 1–128, value 0–256, the tag
 * pattern, the reserved `aws:` prefix → InvalidParameterException) live in src/domain/tags.ts; this adds the one
 * rule specific to this request: an explicitly empty list is ECS's ClientException "Tags can not be empty." (what
 * ecs-deploy users hit when copying a definition's `"tags": []` into a new registration).
 */
import type { Tag } from '@aws-sdk/client-ecs';
import { Ecs } from '../errors.js';
import { validateTags } from '../tags.js';
import type { WireTag } from '../tags.js';

export function normaliseTags(tags: readonly Tag[] | undefined): WireTag[] {
  if (tags !== undefined && tags.length === 0) throw Ecs.client('Tags can not be empty.');
  return validateTags(tags);
}
