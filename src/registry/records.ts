/**
 * The registry's records in the store (metadata only; bytes are in the blob store). Timestamps shown by the
 * ECR API are epoch seconds, as on the wire; internal times are epoch ms (…Ms).
 *
 *   repository   name                  the ECR repository: settings, policies, tags
 *   image        repo@digest           one manifest pushed to a repository, and what it references
 *   tag          repo:tag              tag → manifest digest
 *   blob link    repo@digest           "this repository holds this blob": what makes a blob readable there
 *   upload       id                    an upload in progress (its bytes are in the blob store)
 */
import type { WireTag } from '../domain/tags.js';

export const RegistryKind = {
  repository: 'ecr-repository',
  image: 'ecr-image',
  tag: 'ecr-tag',
  blobLink: 'ecr-blob-link',
  upload: 'ecr-upload',
  lifecyclePreview: 'ecr-lifecycle-preview',
  tokenRevocation: 'ecr-token-revocation',
  secret: 'ecr-secret',
} as const;
export const REGISTRY_KINDS: readonly string[] = Object.values(RegistryKind);

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

export interface RepositoryRecord {
  repositoryName: string;
  repositoryArn: string;
  registryId: string;
  createdAt: number;
  imageTagMutability: TagMutability;
  /** Filters of the *_WITH_EXCLUSION modes: tags matching one of them behave the other way. */
  imageTagMutabilityExclusionFilters?: { filterType: 'WILDCARD'; filter: string }[];
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration: { encryptionType: 'AES256' | 'KMS' | 'KMS_DSSE'; kmsKey?: string };
  tags: WireTag[];
  policyText?: string;
  lifecyclePolicyText?: string;
  /** Epoch seconds: when the lifecycle policy last ran (GetLifecyclePolicy's lastEvaluatedAt). */
  lifecycleEvaluatedAt?: number;
}

export interface ImageRecord {
  repositoryName: string;
  digest: string;
  mediaType: string;
  artifactType?: string;
  /** Bytes of the manifest itself. */
  manifestSize: number;
  /** ECR's imageSizeInBytes: the config and layers (for an index, its images). */
  sizeInBytes: number;
  pushedAt: number;
  lastPulledAt?: number;
  /** Blobs the manifest names (config, layers) that must be present in the repository. */
  blobs: string[];
  /** Manifests an index names. */
  manifests: string[];
  subject?: string;
  annotations?: Record<string, string>;
}

export interface TagRecord {
  repositoryName: string;
  tag: string;
  digest: string;
  /** Epoch ms. */
  taggedAtMs: number;
}

export interface BlobLinkRecord {
  repositoryName: string;
  digest: string;
  size: number;
  linkedAtMs: number;
}

export interface UploadRecord {
  id: string;
  repositoryName: string;
  createdAtMs: number;
}

export interface TokenRevocationRecord {
  principalArn: string;
  /** Tokens issued before this (epoch ms) are refused. */
  notBeforeMs: number;
}

export const imageKey = (repo: string, digest: string): string => `${repo}@${digest}`;
export const tagKey = (repo: string, tag: string): string => `${repo}:${tag}`;
export const linkKey = (repo: string, digest: string): string => `${repo}@${digest}`;
