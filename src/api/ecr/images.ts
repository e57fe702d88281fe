/**
 * ECR images and layers: describe/list/get/delete/put images, and the layer upload and download calls
 * (the JSON API's own way to push and pull, beside the OCI API). They run the same registry core as
 * `docker push`, so both paths store and check exactly alike.
 */
import type {
  BatchCheckLayerAvailabilityRequest,
  BatchDeleteImageRequest,
  BatchGetImageRequest,
  CompleteLayerUploadRequest,
  DescribeImagesRequest,
  GetDownloadUrlForLayerRequest,
  ImageIdentifier,
  InitiateLayerUploadRequest,
  ListImagesRequest,
  PutImageRequest,
  UploadLayerPartRequest,
} from '@aws-sdk/client-ecr';
import { Ecr } from '../../domain/errors.js';
import { digestOf, parseDigest } from '../../registry/digest.js';
import type { ImageRecord } from '../../registry/records.js';
import type { RequestContext } from '../ecs/context.js';
import { paginate } from '../pagination.js';
import { authorizedRepository, principalOf } from './context.js';
import type { EcrDeps } from './context.js';

/** InitiateLayerUpload's partSize: what a client should send per UploadLayerPart. */
const PART_SIZE = 10 * 1024 * 1024;
/** GetDownloadUrlForLayer URLs stay valid this long (ECR's pre-signed S3 URLs: 1 hour). */
const DOWNLOAD_URL_TTL_MS = 60 * 60 * 1000;

type TagStatus = 'TAGGED' | 'UNTAGGED' | 'ANY';

function tagStatusOf(filter: { tagStatus?: string | undefined } | undefined): TagStatus {
  return (filter?.tagStatus as TagStatus | undefined) ?? 'ANY';
}

export function imageOperations(deps: EcrDeps) {
  const { registry } = deps;

  const detail = (i: ImageRecord) => {
    const tags = registry.state.tagsOf(i.repositoryName, i.digest);
    return {
      registryId: registry.registryId,
      repositoryName: i.repositoryName,
      imageDigest: i.digest,
      ...(tags.length > 0 ? { imageTags: tags } : {}),
      imageSizeInBytes: i.sizeInBytes,
      imagePushedAt: i.pushedAt,
      imageManifestMediaType: i.mediaType,
      ...(i.artifactType !== undefined ? { artifactMediaType: i.artifactType } : {}),
      ...(i.lastPulledAt !== undefined ? { lastRecordedPullTime: i.lastPulledAt } : {}),
      ...(i.subject !== undefined ? { subjectManifestDigest: i.subject } : {}),
      imageStatus: 'ACTIVE',
    };
  };

  /** The images imageIds name, with failures for the rest (ECR's ImageFailure shapes). */
  const lookup = (repo: string, ids: readonly ImageIdentifier[]) => {
    const found: { image: ImageRecord; imageId: { imageDigest: string; imageTag?: string } }[] = [];
    const failures: { imageId: ImageIdentifier; failureCode: string; failureReason: string }[] = [];
    for (const id of ids) {
      if (id.imageDigest === undefined && id.imageTag === undefined) {
        failures.push({ imageId: id, failureCode: 'MissingDigestAndTag', failureReason: 'Invalid request parameters: both tag and digest cannot be null' });
        continue;
      }
      if (id.imageDigest !== undefined && !parseDigest(id.imageDigest)) {
        failures.push({ imageId: id, failureCode: 'InvalidImageDigest', failureReason: "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'" });
        continue;
      }
      const byTag = id.imageTag !== undefined ? registry.state.tag(repo, id.imageTag)?.value.digest : undefined;
      const digest = id.imageDigest ?? byTag;
      const image = digest !== undefined ? registry.state.image(repo, digest)?.value : undefined;
      if (!image || (id.imageTag !== undefined && byTag !== image.digest)) {
        const mismatch = image !== undefined && id.imageTag !== undefined;
        failures.push({
          imageId: id,
          failureCode: mismatch ? 'ImageTagDoesNotMatchDigest' : 'ImageNotFound',
          failureReason: mismatch ? 'Invalid request parameters: given tag does not match the given digest' : 'Requested image not found',
        });
        continue;
      }
      found.push({ image, imageId: { imageDigest: image.digest, ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {}) } });
    }
    return { found, failures };
  };

  return {
    DescribeImages: async (input: DescribeImagesRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const name = repo.repositoryName;
      if (input.imageIds !== undefined) {
        if (input.maxResults !== undefined || input.nextToken !== undefined) throw Ecr.invalidParameter('maxResults and nextToken cannot be used with imageIds.');
        const { found, failures } = lookup(name, input.imageIds);
        const f = failures[0];
        if (f) {
          throw Ecr.imageNotFound(
            `The image with imageId {imageDigest:'${f.imageId.imageDigest ?? 'null'}', imageTag:'${f.imageId.imageTag ?? 'null'}'} does not exist within the repository with name '${name}' in the registry with id '${registry.registryId}'`,
          );
        }
        const unique = new Map(found.map((x) => [x.image.digest, x.image]));
        return { imageDetails: [...unique.values()].map(detail) };
      }
      const status = tagStatusOf(input.filter);
      const images = registry.state
        .images(name)
        .map((i) => i.value)
        .filter((i) => {
          const tagged = registry.state.tagsOf(name, i.digest).length > 0;
          return status === 'ANY' || (status === 'TAGGED') === tagged;
        });
      const page = paginate(images, (i) => i.digest, input, { defaultSize: 100, maxSize: 1000, scope: `DescribeImages/${name}` }, Ecr.invalidParameter);
      return { imageDetails: page.items.map(detail), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    ListImages: async (input: ListImagesRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const name = repo.repositoryName;
      const status = tagStatusOf(input.filter);
      const ids: { key: string; id: { imageDigest: string; imageTag?: string } }[] = [];
      for (const { value: i } of registry.state.images(name)) {
        const tags = registry.state.tagsOf(name, i.digest);
        if (tags.length === 0 && status !== 'TAGGED') ids.push({ key: `${i.digest} `, id: { imageDigest: i.digest } });
        if (status !== 'UNTAGGED') for (const t of tags) ids.push({ key: `${i.digest} ${t}`, id: { imageDigest: i.digest, imageTag: t } });
      }
      const page = paginate(ids, (x) => x.key, input, { defaultSize: 100, maxSize: 1000, scope: `ListImages/${name}` }, Ecr.invalidParameter);
      return { imageIds: page.items.map((x) => x.id), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    BatchGetImage: async (input: BatchGetImageRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const { found, failures } = lookup(repo.repositoryName, input.imageIds ?? []);
      const accepted = input.acceptedMediaTypes;
      const images = [];
      for (const f of found) {
        if (accepted !== undefined && !accepted.includes(f.image.mediaType)) {
          failures.push({ imageId: f.imageId, failureCode: 'UnsupportedImageType', failureReason: `The image's manifest is ${f.image.mediaType}, which is not among the accepted media types` } as never);
          continue;
        }
        const manifest = await registry.manifestBytes(f.image);
        registry.notePull(f.image);
        images.push({ registryId: registry.registryId, repositoryName: repo.repositoryName, imageId: f.imageId, imageManifest: manifest.toString('utf8'), imageManifestMediaType: f.image.mediaType });
      }
      return { images, failures };
    },

    BatchDeleteImage: async (input: BatchDeleteImageRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const r = await registry.deleteImages(repo.repositoryName, input.imageIds ?? []);
      return { imageIds: r.deleted, failures: r.failures };
    },

    PutImage: async (input: PutImageRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const bytes = Buffer.from(input.imageManifest!, 'utf8');
      // Without a tag the image is stored untagged, under its digest (the given one, checked, or its own).
      const reference = input.imageTag ?? input.imageDigest ?? digestOf(bytes).text;
      const { digest } = await registry.putManifest(repo.repositoryName, reference, bytes, {
        source: 'ecr',
        contentType: input.imageManifestMediaType,
        expectedDigest: input.imageDigest,
      });
      return {
        image: {
          registryId: registry.registryId,
          repositoryName: repo.repositoryName,
          imageId: { imageDigest: digest, ...(input.imageTag !== undefined ? { imageTag: input.imageTag } : {}) },
          imageManifest: input.imageManifest,
          imageManifestMediaType: registry.state.image(repo.repositoryName, digest)?.value.mediaType ?? input.imageManifestMediaType,
        },
      };
    },

    BatchCheckLayerAvailability: async (input: BatchCheckLayerAvailabilityRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const layers = [];
      const failures = [];
      for (const d of input.layerDigests ?? []) {
        if (!parseDigest(d)) {
          failures.push({ layerDigest: d, failureCode: 'InvalidLayerDigest', failureReason: 'Invalid layer digest' });
          continue;
        }
        const link = registry.blob(repo.repositoryName, d);
        if (!link) failures.push({ layerDigest: d, failureCode: 'MissingLayerDigest', failureReason: 'Could not find layer' });
        else layers.push({ layerDigest: d, layerAvailability: 'AVAILABLE', layerSize: link.size });
      }
      return { layers, failures };
    },

    InitiateLayerUpload: async (input: InitiateLayerUploadRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const uploadId = await registry.startUpload(repo.repositoryName);
      return { uploadId, partSize: PART_SIZE };
    },

    UploadLayerPart: async (input: UploadLayerPartRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const blob = Buffer.from(input.layerPartBlob as unknown as string, 'base64');
      const first = input.partFirstByte!;
      const last = input.partLastByte!;
      if (last < first || last - first + 1 !== blob.length) {
        throw Ecr.invalidLayerPart(`The part is ${blob.length} bytes but partFirstByte ${first} and partLastByte ${last} span ${last - first + 1}.`);
      }
      const size = await registry.appendUpload(repo.repositoryName, input.uploadId!, first, [blob]);
      return { registryId: registry.registryId, repositoryName: repo.repositoryName, uploadId: input.uploadId, lastByteReceived: size - 1 };
    },

    CompleteLayerUpload: async (input: CompleteLayerUploadRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const digests = input.layerDigests ?? [];
      if (digests.length !== 1) throw Ecr.invalidParameter(`An upload is one layer: layerDigests must hold exactly one digest; got ${digests.length}.`);
      const digest = digests[0]!;
      if ((await registry.uploadSize(repo.repositoryName, input.uploadId!)) === 0) {
        throw Ecr.emptyUpload(`The upload with id '${input.uploadId}' has no parts; upload the layer with UploadLayerPart first.`);
      }
      if (registry.blob(repo.repositoryName, digest)) {
        await registry.cancelUpload(repo.repositoryName, input.uploadId!);
        throw Ecr.layerAlreadyExists(`The layer with digest '${digest}' already exists in the repository with name '${repo.repositoryName}' in registry with id '${registry.registryId}'`);
      }
      await registry.completeUpload(repo.repositoryName, input.uploadId!, digest);
      return { registryId: registry.registryId, repositoryName: repo.repositoryName, uploadId: input.uploadId, layerDigest: digest };
    },

    GetDownloadUrlForLayer: async (input: GetDownloadUrlForLayerRequest, ctx: RequestContext) => {
      const repo = authorizedRepository(deps, ctx, input);
      const digest = input.layerDigest!;
      if (!parseDigest(digest) || !registry.blob(repo.repositoryName, digest)) {
        throw Ecr.layersNotFound(`The layer with digest '${digest}' does not exist in the repository with name '${repo.repositoryName}'.`);
      }
      const accessKeyId = deps.accessKeyFor(ctx.principalArn);
      if (accessKeyId === undefined) throw Ecr.accessDenied(`${ctx.principalArn} has no access key to sign a download URL with.`);
      const { token } = deps.auth.tokens.issue(
        { accessKeyId, principalArn: ctx.principalArn, kind: principalOf(ctx).kind === 'root' ? 'root' : 'user', scope: { repository: repo.repositoryName, digest } },
        DOWNLOAD_URL_TTL_MS,
      );
      return { downloadUrl: `http://${deps.endpoint()}/v2/${repo.repositoryName}/blobs/${digest}?gantry-token=${encodeURIComponent(token)}`, layerDigest: digest };
    },
  };
}
