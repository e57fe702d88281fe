/**
 * ECR repositories: create, describe, delete (force), tag mutability, scanning configuration, repository
 * policies, resource tags and DescribeRegistry.
 */
import type {
  CreateRepositoryRequest,
  DeleteRepositoryPolicyRequest,
  DeleteRepositoryRequest,
  DescribeRepositoriesRequest,
  GetRepositoryPolicyRequest,
  ListTagsForResourceRequest,
  PutImageScanningConfigurationRequest,
  PutImageTagMutabilityRequest,
  SetRepositoryPolicyRequest,
  Tag,
  TagResourceRequest,
  UntagResourceRequest,
} from '@aws-sdk/client-ecr';
import { Ecr } from '../../domain/errors.js';
import type { WireTag } from '../../domain/tags.js';
import { PolicyError, parsePolicy } from '../../registry/policy.js';
import { RegistryKind } from '../../registry/records.js';
import type { RepositoryRecord, TagMutability } from '../../registry/records.js';
import { deleteOp, putOp } from '../../state/catalog.js';
import type { WriteOp } from '../../store/types.js';
import { epochSeconds } from '../../util/clock.js';
import type { RequestContext } from '../ecs/context.js';
import { paginate } from '../pagination.js';
import { authorizedRepository, checkRegistryId, principalOf } from './context.js';
import type { EcrDeps } from './context.js';

const MAX_TAGS = 50;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export function repositoryView(deps: EcrDeps, r: RepositoryRecord) {
  return {
    repositoryArn: r.repositoryArn,
    registryId: r.registryId,
    repositoryName: r.repositoryName,
    repositoryUri: `${deps.endpoint()}/${r.repositoryName}`,
    createdAt: r.createdAt,
    imageTagMutability: r.imageTagMutability,
    ...(r.imageTagMutabilityExclusionFilters ? { imageTagMutabilityExclusionFilters: r.imageTagMutabilityExclusionFilters } : {}),
    imageScanningConfiguration: r.imageScanningConfiguration,
    encryptionConfiguration: r.encryptionConfiguration,
  };
}

function validateTags(tags: readonly Tag[] | undefined): WireTag[] {
  const byKey = new Map<string, string>();
  for (const t of tags ?? []) {
    const key = t.Key ?? '';
    const value = t.Value ?? '';
    if (key.length < 1 || key.length > 128 || value.length > 256 || !TAG_CHARS.test(key) || !TAG_CHARS.test(value)) {
      throw Ecr.invalidTagParameter(`Invalid tag '${key}': keys are 1-128 and values 0-256 letters, digits, spaces and _ . : / = + - @.`);
    }
    if (key.toLowerCase().startsWith('aws:')) throw Ecr.invalidTagParameter(`The 'aws:' prefix is reserved (tag '${key}').`);
    byKey.set(key, value);
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}

function checkMutability(mode: string | undefined, filters: readonly unknown[] | undefined): void {
  const withExclusion = mode === 'IMMUTABLE_WITH_EXCLUSION' || mode === 'MUTABLE_WITH_EXCLUSION';
  if (withExclusion && (filters === undefined || filters.length === 0)) {
    throw Ecr.invalidParameter(`imageTagMutabilityExclusionFilters are required with ${mode}.`);
  }
  if (!withExclusion && filters !== undefined && filters.length > 0) {
    throw Ecr.invalidParameter('imageTagMutabilityExclusionFilters are only allowed with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION.');
  }
}

/** The repository a resource ARN names (TagResource & co.). */
function repositoryOfArn(deps: EcrDeps, arn: string): RepositoryRecord {
  const parsed = deps.arns.own(arn, 'ecr');
  if (!parsed || parsed.resourceType !== 'repository') {
    throw Ecr.invalidParameter(`Invalid parameter at 'resourceArn' failed to satisfy constraint: '${arn} is not a repository ARN of this registry'`);
  }
  return deps.registry.repository(parsed.resource).value;
}

export function repositoryOperations(deps: EcrDeps) {
  const { registry, clock } = deps;
  const catalog = registry.catalog;

  const update = (name: string, ctx: RequestContext, change: (r: RepositoryRecord) => RepositoryRecord | undefined): Promise<RepositoryRecord> =>
    catalog.transact(() => {
      const cur = registry.repository(name);
      deps.access.check(principalOf(ctx), `ecr:${ctx.operation}`, cur.value);
      const next = change(cur.value);
      return next === undefined ? { ops: [], result: cur.value } : { ops: [putOp(RegistryKind.repository, name, next, cur)], result: next };
    });

  return {
    CreateRepository: async (input: CreateRepositoryRequest, ctx: RequestContext) => {
      checkRegistryId(deps, input.registryId);
      deps.access.check(principalOf(ctx), 'ecr:CreateRepository', undefined, deps.arns.repository(input.repositoryName!));
      const tags = validateTags(input.tags);
      if (tags.length > MAX_TAGS) throw Ecr.tooManyTags(`A repository can have at most ${MAX_TAGS} tags.`);
      checkMutability(input.imageTagMutability, input.imageTagMutabilityExclusionFilters);
      const enc = input.encryptionConfiguration;
      if (enc?.kmsKey !== undefined && enc.encryptionType === 'AES256') throw Ecr.invalidParameter('kmsKey is only allowed with encryptionType KMS or KMS_DSSE.');
      const name = input.repositoryName!;
      const record: RepositoryRecord = {
        repositoryName: name,
        repositoryArn: deps.arns.repository(name),
        registryId: registry.registryId,
        createdAt: epochSeconds(clock.now()),
        imageTagMutability: (input.imageTagMutability ?? 'MUTABLE') as TagMutability,
        ...(input.imageTagMutabilityExclusionFilters?.length
          ? { imageTagMutabilityExclusionFilters: input.imageTagMutabilityExclusionFilters.map((f) => ({ filterType: 'WILDCARD' as const, filter: f.filter! })) }
          : {}),
        imageScanningConfiguration: { scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? false },
        encryptionConfiguration: { encryptionType: enc?.encryptionType ?? 'AES256', ...(enc?.kmsKey !== undefined ? { kmsKey: enc.kmsKey } : {}) },
        tags,
      };
      await catalog.transact(() => {
        const cur = registry.state.repository(name);
        if (cur) throw Ecr.repositoryAlreadyExists(`The repository with name '${name}' already exists in the registry with id '${registry.registryId}'`);
        return { ops: [putOp(RegistryKind.repository, name, record, undefined)], result: undefined };
      });
      return { repository: repositoryView(deps, record) };
    },

    DescribeRepositories: async (input: DescribeRepositoriesRequest, ctx: RequestContext) => {
      checkRegistryId(deps, input.registryId);
      const principal = principalOf(ctx);
      if (input.repositoryNames !== undefined) {
        if (input.maxResults !== undefined || input.nextToken !== undefined) {
          throw Ecr.invalidParameter('maxResults and nextToken cannot be used together with repositoryNames.');
        }
        const repos = [...new Set(input.repositoryNames)].map((n) => registry.repository(n).value);
        for (const r of repos) deps.access.check(principal, 'ecr:DescribeRepositories', r);
        return { repositories: repos.map((r) => repositoryView(deps, r)) };
      }
      const visible = registry
        .repositoryNames()
        .map((n) => registry.state.repository(n)!.value)
        .filter((r) => deps.access.allowed(principal, 'ecr:DescribeRepositories', r));
      const page = paginate(visible, (r) => r.repositoryName, input, { defaultSize: 100, maxSize: 1000, scope: 'DescribeRepositories' }, Ecr.invalidParameter);
      return { repositories: page.items.map((r) => repositoryView(deps, r)), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    DeleteRepository: async (input: DeleteRepositoryRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const name = repo.repositoryName;
      const deleted = await catalog.transact(() => {
        const cur = registry.repository(name);
        const images = registry.state.images(name);
        if (images.length > 0 && input.force !== true) {
          throw Ecr.repositoryNotEmpty(
            `The repository with name '${name}' in registry with id '${registry.registryId}' cannot be deleted because it still contains images`,
          );
        }
        const ops: WriteOp[] = [deleteOp(RegistryKind.repository, name, cur)];
        for (const i of images) ops.push(deleteOp(RegistryKind.image, `${name}@${i.value.digest}`, i));
        for (const t of registry.state.tags(name)) ops.push(deleteOp(RegistryKind.tag, `${name}:${t.value.tag}`, t));
        for (const k of registry.state.linksByRepo.keys(name)) {
          const l = catalog.get(RegistryKind.blobLink, k);
          if (l) ops.push(deleteOp(RegistryKind.blobLink, k, l));
        }
        for (const k of registry.state.uploadsByRepo.keys(name)) {
          const u = catalog.get(RegistryKind.upload, k);
          if (u) ops.push(deleteOp(RegistryKind.upload, k, u));
        }
        const preview = catalog.get(RegistryKind.lifecyclePreview, name);
        if (preview) ops.push(deleteOp(RegistryKind.lifecyclePreview, name, preview));
        return { ops, result: cur.value };
      });
      return { repository: repositoryView(deps, deleted) };
    },

    PutImageTagMutability: async (input: PutImageTagMutabilityRequest, ctx: RequestContext) => {
      checkRegistryId(deps, input.registryId);
      checkMutability(input.imageTagMutability, input.imageTagMutabilityExclusionFilters);
      const r = await update(input.repositoryName!, ctx, (cur) => {
        const next: RepositoryRecord = { ...cur, imageTagMutability: input.imageTagMutability as TagMutability };
        delete next.imageTagMutabilityExclusionFilters;
        if (input.imageTagMutabilityExclusionFilters?.length) {
          next.imageTagMutabilityExclusionFilters = input.imageTagMutabilityExclusionFilters.map((f) => ({ filterType: 'WILDCARD', filter: f.filter! }));
        }
        return next;
      });
      return {
        registryId: r.registryId,
        repositoryName: r.repositoryName,
        imageTagMutability: r.imageTagMutability,
        ...(r.imageTagMutabilityExclusionFilters ? { imageTagMutabilityExclusionFilters: r.imageTagMutabilityExclusionFilters } : {}),
      };
    },

    PutImageScanningConfiguration: async (input: PutImageScanningConfigurationRequest, ctx: RequestContext) => {
      checkRegistryId(deps, input.registryId);
      const r = await update(input.repositoryName!, ctx, (cur) => ({ ...cur, imageScanningConfiguration: { scanOnPush: input.imageScanningConfiguration!.scanOnPush ?? false } }));
      return { registryId: r.registryId, repositoryName: r.repositoryName, imageScanningConfiguration: r.imageScanningConfiguration };
    },

    SetRepositoryPolicy: async (input: SetRepositoryPolicyRequest, ctx: RequestContext) => {
      checkRegistryId(deps, input.registryId);
      try {
        parsePolicy(input.policyText!);
      } catch (e) {
        if (e instanceof PolicyError) throw Ecr.invalidParameter(`Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided: ${e.message}'`);
        throw e;
      }
      const r = await update(input.repositoryName!, ctx, (cur) => ({ ...cur, policyText: input.policyText! }));
      return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: r.policyText };
    },

    GetRepositoryPolicy: async (input: GetRepositoryPolicyRequest, ctx: RequestContext) => {
      const r = authorizedRepository(deps, ctx, input);
      if (r.policyText === undefined) {
        throw Ecr.repositoryPolicyNotFound(`Repository policy does not exist for the repository with name '${r.repositoryName}' in the registry with id '${r.registryId}'`);
      }
      return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: r.policyText };
    },

    DeleteRepositoryPolicy: async (input: DeleteRepositoryPolicyRequest, ctx: RequestContext) => {
      checkRegistryId(deps, input.registryId);
      let old: string | undefined;
      const r = await update(input.repositoryName!, ctx, (cur) => {
        if (cur.policyText === undefined) {
          throw Ecr.repositoryPolicyNotFound(`Repository policy does not exist for the repository with name '${cur.repositoryName}' in the registry with id '${cur.registryId}'`);
        }
        old = cur.policyText;
        const next = { ...cur };
        delete next.policyText;
        return next;
      });
      return { registryId: r.registryId, repositoryName: r.repositoryName, policyText: old };
    },

    TagResource: async (input: TagResourceRequest, ctx: RequestContext) => {
      const add = validateTags(input.tags);
      const repo = repositoryOfArn(deps, input.resourceArn!);
      await update(repo.repositoryName, ctx, (cur) => {
        const m = new Map(cur.tags.map((t) => [t.key, t.value]));
        for (const t of add) m.set(t.key, t.value);
        if (m.size > MAX_TAGS) throw Ecr.tooManyTags(`A repository can have at most ${MAX_TAGS} tags; this would make ${m.size}.`);
        return { ...cur, tags: [...m].map(([key, value]) => ({ key, value })) };
      });
      return {};
    },

    UntagResource: async (input: UntagResourceRequest, ctx: RequestContext) => {
      const repo = repositoryOfArn(deps, input.resourceArn!);
      const drop = new Set(input.tagKeys ?? []);
      await update(repo.repositoryName, ctx, (cur) => ({ ...cur, tags: cur.tags.filter((t) => !drop.has(t.key)) }));
      return {};
    },

    ListTagsForResource: async (input: ListTagsForResourceRequest, ctx: RequestContext) => {
      const repo = repositoryOfArn(deps, input.resourceArn!);
      deps.access.check(principalOf(ctx), 'ecr:ListTagsForResource', repo);
      return { tags: repo.tags.map((t) => ({ Key: t.key, Value: t.value })) };
    },

    DescribeRegistry: async (_input: object, ctx: RequestContext) => {
      deps.access.check(principalOf(ctx), 'ecr:DescribeRegistry', undefined, '*');
      return { registryId: registry.registryId, replicationConfiguration: { rules: [] } };
    },
  };
}
