/**
 * The registry's view of the catalog: its records plus the secondary indexes its decisions need. Like every
 * index over the catalog, these follow the speculative feed (commits in flight included), so readers take
 * their keys as candidates and read each record through the catalog.
 */
import type { Catalog, Versioned } from '../state/catalog.js';
import { GroupIndex } from '../state/group-index.js';
import { RegistryKind, imageKey, linkKey, tagKey } from './records.js';
import type { BlobLinkRecord, ImageRecord, RepositoryRecord, TagRecord, UploadRecord } from './records.js';

export class RegistryState {
  readonly imagesByRepo: GroupIndex;
  readonly tagsByRepo: GroupIndex;
  /** repo@digest → tags on that image. */
  readonly tagsByImage: GroupIndex;
  readonly linksByRepo: GroupIndex;
  /** digest → the repositories' links to it (GC: a blob no repository links is garbage). */
  readonly linksByDigest: GroupIndex;
  readonly uploadsByRepo: GroupIndex;
  /** repo@digest → images of that repository referencing it (as config, layer, or index member). */
  readonly referencedBy: GroupIndex;
  /** repo@subject-digest → images whose `subject` it is (the referrers API). */
  readonly referrers: GroupIndex;

  constructor(readonly catalog: Catalog) {
    const repoOf = (v: unknown) => (v as { repositoryName: string }).repositoryName;
    this.imagesByRepo = new GroupIndex(catalog, RegistryKind.image, repoOf);
    this.tagsByRepo = new GroupIndex(catalog, RegistryKind.tag, repoOf);
    this.tagsByImage = new GroupIndex(catalog, RegistryKind.tag, (v) => imageKey((v as TagRecord).repositoryName, (v as TagRecord).digest));
    this.linksByRepo = new GroupIndex(catalog, RegistryKind.blobLink, repoOf);
    this.linksByDigest = new GroupIndex(catalog, RegistryKind.blobLink, (v) => (v as BlobLinkRecord).digest);
    this.uploadsByRepo = new GroupIndex(catalog, RegistryKind.upload, repoOf);
    this.referencedBy = new GroupIndex(catalog, RegistryKind.image, (v) => {
      const i = v as ImageRecord;
      return [...i.blobs, ...i.manifests].map((d) => imageKey(i.repositoryName, d));
    });
    this.referrers = new GroupIndex(catalog, RegistryKind.image, (v) => {
      const i = v as ImageRecord;
      return i.subject === undefined ? undefined : imageKey(i.repositoryName, i.subject);
    });
  }

  repository(name: string): Versioned<RepositoryRecord> | undefined {
    return this.catalog.get<RepositoryRecord>(RegistryKind.repository, name);
  }
  image(repo: string, digest: string): Versioned<ImageRecord> | undefined {
    return this.catalog.get<ImageRecord>(RegistryKind.image, imageKey(repo, digest));
  }
  tag(repo: string, tag: string): Versioned<TagRecord> | undefined {
    return this.catalog.get<TagRecord>(RegistryKind.tag, tagKey(repo, tag));
  }
  link(repo: string, digest: string): Versioned<BlobLinkRecord> | undefined {
    return this.catalog.get<BlobLinkRecord>(RegistryKind.blobLink, linkKey(repo, digest));
  }
  upload(id: string): Versioned<UploadRecord> | undefined {
    return this.catalog.get<UploadRecord>(RegistryKind.upload, id);
  }

  /** Records of `kind` whose keys an index lists (read through the catalog, so in-flight ones only inside a decision). */
  read<V>(kind: string, keys: Iterable<string>): Versioned<V>[] {
    const out: Versioned<V>[] = [];
    for (const k of keys) {
      const v = this.catalog.get<V>(kind, k);
      if (v) out.push(v);
    }
    return out;
  }

  images(repo: string): Versioned<ImageRecord>[] {
    return this.read<ImageRecord>(RegistryKind.image, this.imagesByRepo.keys(repo)).filter((i) => i.value.repositoryName === repo);
  }
  tags(repo: string): Versioned<TagRecord>[] {
    return this.read<TagRecord>(RegistryKind.tag, this.tagsByRepo.keys(repo)).filter((t) => t.value.repositoryName === repo);
  }
  tagsOf(repo: string, digest: string): string[] {
    return this.read<TagRecord>(RegistryKind.tag, this.tagsByImage.keys(imageKey(repo, digest)))
      .filter((t) => t.value.repositoryName === repo && t.value.digest === digest)
      .map((t) => t.value.tag)
      .sort();
  }
}
