/**
 * ECR lifecycle policies: Put/Get/Delete, preview (computed at once, so the preview is COMPLETE when
 * StartLifecyclePolicyPreview returns), and enforcement on a schedule (`enforceLifecyclePolicies`, run by
 * the server). The rule language and its evaluation are pure, in src/registry/lifecycle.ts.
 */
import type {
  DeleteLifecyclePolicyRequest,
  GetLifecyclePolicyPreviewRequest,
  GetLifecyclePolicyRequest,
  PutLifecyclePolicyRequest,
  StartLifecyclePolicyPreviewRequest,
} from '@aws-sdk/client-ecr';
import { Ecr } from '../../domain/errors.js';
import { LifecyclePolicyError, evaluateLifecycle, parseLifecyclePolicy } from '../../registry/lifecycle.js';
import type { LifecycleRule } from '../../registry/lifecycle.js';
import { RegistryKind } from '../../registry/records.js';
import type { RepositoryRecord } from '../../registry/records.js';
import type { Registry } from '../../registry/registry.js';
import { putOp } from '../../state/catalog.js';
import type { Clock } from '../../util/clock.js';
import { epochSeconds } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import type { RequestContext } from '../ecs/context.js';
import { paginate } from '../pagination.js';
import { authorizedRepository, checkRegistryId, principalOf } from './context.js';
import type { EcrDeps } from './context.js';

interface PreviewResult {
  imageDigest: string;
  imageTags: string[];
  imagePushedAt: number;
  action: { type: 'EXPIRE' };
  appliedRulePriority: number;
}
interface PreviewRecord {
  repositoryName: string;
  lifecyclePolicyText: string;
  status: 'COMPLETE';
  results: PreviewResult[];
}

function rulesOf(text: string): LifecycleRule[] {
  try {
    return parseLifecyclePolicy(text);
  } catch (e) {
    if (e instanceof LifecyclePolicyError) throw Ecr.invalidParameter(`Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: '${e.message}'`);
    throw e;
  }
}

/** What a policy would expire in a repository now, newest push first. */
export function lifecycleResults(registry: Registry, repo: string, rules: readonly LifecycleRule[], nowMs: number): PreviewResult[] {
  const images = registry.state.images(repo).map((i) => ({ digest: i.value.digest, tags: registry.state.tagsOf(repo, i.value.digest), pushedAtMs: i.value.pushedAt * 1000 }));
  const expired = evaluateLifecycle(rules, images, nowMs);
  return images
    .filter((i) => expired.has(i.digest))
    .sort((a, b) => b.pushedAtMs - a.pushedAtMs || (a.digest < b.digest ? -1 : 1))
    .map((i) => ({ imageDigest: i.digest, imageTags: i.tags, imagePushedAt: i.pushedAtMs / 1000, action: { type: 'EXPIRE' as const }, appliedRulePriority: expired.get(i.digest)! }));
}

function notFound(r: RepositoryRecord) {
  return Ecr.lifecyclePolicyNotFound(`Lifecycle policy does not exist for the repository with name '${r.repositoryName}' in the registry with id '${r.registryId}'`);
}

export function lifecycleOperations(deps: EcrDeps) {
  const { registry, clock } = deps;
  const catalog = registry.catalog;

  const update = (name: string, ctx: RequestContext, change: (r: RepositoryRecord) => RepositoryRecord): Promise<{ before: RepositoryRecord; after: RepositoryRecord }> =>
    catalog.transact(() => {
      const cur = registry.repository(name);
      deps.access.check(principalOf(ctx), `ecr:${ctx.operation}`, cur.value);
      const after = change(cur.value);
      return { ops: [putOp(RegistryKind.repository, name, after, cur)], result: { before: cur.value, after } };
    });

  return {
    PutLifecyclePolicy: async (input: PutLifecyclePolicyRequest, ctx: RequestContext) => {
      checkRegistryId(deps, input.registryId);
      rulesOf(input.lifecyclePolicyText!);
      const { after } = await update(input.repositoryName!, ctx, (r) => ({ ...r, lifecyclePolicyText: input.lifecyclePolicyText! }));
      return { registryId: after.registryId, repositoryName: after.repositoryName, lifecyclePolicyText: after.lifecyclePolicyText };
    },

    GetLifecyclePolicy: async (input: GetLifecyclePolicyRequest, ctx: RequestContext) => {
      const r = authorizedRepository(deps, ctx, input);
      if (r.lifecyclePolicyText === undefined) throw notFound(r);
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        lifecyclePolicyText: r.lifecyclePolicyText,
        ...(r.lifecycleEvaluatedAt !== undefined ? { lastEvaluatedAt: r.lifecycleEvaluatedAt } : {}),
      };
    },

    DeleteLifecyclePolicy: async (input: DeleteLifecyclePolicyRequest, ctx: RequestContext) => {
      checkRegistryId(deps, input.registryId);
      const { before } = await update(input.repositoryName!, ctx, (r) => {
        if (r.lifecyclePolicyText === undefined) throw notFound(r);
        const next = { ...r };
        delete next.lifecyclePolicyText;
        delete next.lifecycleEvaluatedAt;
        return next;
      });
      return {
        registryId: before.registryId,
        repositoryName: before.repositoryName,
        lifecyclePolicyText: before.lifecyclePolicyText,
        ...(before.lifecycleEvaluatedAt !== undefined ? { lastEvaluatedAt: before.lifecycleEvaluatedAt } : {}),
      };
    },

    StartLifecyclePolicyPreview: async (input: StartLifecyclePolicyPreviewRequest, ctx: RequestContext) => {
      const r = authorizedRepository(deps, ctx, input);
      const text = input.lifecyclePolicyText ?? r.lifecyclePolicyText;
      if (text === undefined) throw notFound(r);
      const results = lifecycleResults(registry, r.repositoryName, rulesOf(text), clock.now());
      const record: PreviewRecord = { repositoryName: r.repositoryName, lifecyclePolicyText: text, status: 'COMPLETE', results };
      await catalog.transact(() => ({
        ops: [putOp(RegistryKind.lifecyclePreview, r.repositoryName, record, catalog.get(RegistryKind.lifecyclePreview, r.repositoryName))],
        result: undefined,
      }));
      return { registryId: r.registryId, repositoryName: r.repositoryName, lifecyclePolicyText: text, status: record.status };
    },

    GetLifecyclePolicyPreview: async (input: GetLifecyclePolicyPreviewRequest, ctx: RequestContext) => {
      const r = authorizedRepository(deps, ctx, input);
      const preview = catalog.get<PreviewRecord>(RegistryKind.lifecyclePreview, r.repositoryName)?.value;
      if (!preview) {
        throw Ecr.lifecyclePolicyPreviewNotFound(`There is no dry run for the repository with name '${r.repositoryName}' in the registry with id '${r.registryId}'`);
      }
      let results = preview.results;
      if (input.imageIds !== undefined) {
        if (input.maxResults !== undefined || input.nextToken !== undefined) throw Ecr.invalidParameter('maxResults and nextToken cannot be used with imageIds.');
        results = results.filter((x) => input.imageIds!.some((id) => id.imageDigest === x.imageDigest || (id.imageTag !== undefined && x.imageTags.includes(id.imageTag))));
      }
      const status = input.filter?.tagStatus;
      if (status === 'TAGGED') results = results.filter((x) => x.imageTags.length > 0);
      if (status === 'UNTAGGED') results = results.filter((x) => x.imageTags.length === 0);
      const page = paginate(results, (x) => x.imageDigest, input, { defaultSize: 100, maxSize: 100, scope: `LifecyclePreview/${r.repositoryName}` }, Ecr.invalidParameter);
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        lifecyclePolicyText: preview.lifecyclePolicyText,
        status: preview.status,
        previewResults: page.items.map((x) => ({ ...x, imageTags: x.imageTags.length > 0 ? x.imageTags : undefined })),
        summary: { expiringImageTotalCount: preview.results.length },
        ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      };
    },
  };
}

/** Applies every repository's lifecycle policy: deletes what it expires and records when it ran. */
export async function enforceLifecyclePolicies(deps: { registry: Registry; clock: Clock; logger: Logger }): Promise<number> {
  const { registry, clock, logger } = deps;
  let expired = 0;
  for (const name of registry.repositoryNames()) {
    const repo = registry.state.repository(name)?.value;
    if (repo?.lifecyclePolicyText === undefined) continue;
    let rules: LifecycleRule[];
    try {
      rules = parseLifecyclePolicy(repo.lifecyclePolicyText);
    } catch (e) {
      logger.warn('lifecycle policy no longer parses; skipped', { repository: name, error: e });
      continue;
    }
    const results = lifecycleResults(registry, name, rules, clock.now());
    if (results.length > 0) {
      const r = await registry.deleteImages(name, results.map((x) => ({ imageDigest: x.imageDigest })));
      expired += r.deleted.length;
      for (const f of r.failures) logger.info('lifecycle policy could not expire an image', { repository: name, ...f });
    }
    await registry.catalog.transact(() => {
      const cur = registry.state.repository(name);
      if (!cur || cur.value.lifecyclePolicyText !== repo.lifecyclePolicyText) return { ops: [], result: undefined };
      return { ops: [putOp(RegistryKind.repository, name, { ...cur.value, lifecycleEvaluatedAt: epochSeconds(clock.now()) }, cur)], result: undefined };
    });
  }
  return expired;
}
