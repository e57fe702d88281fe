/**
 * Manifests Gantry accepts (pure; no I/O): Docker image manifest v2 schema 2 and manifest lists, OCI image
 * manifests and indexes (image spec 1.1, with `subject` and `artifactType`). Parsing checks the structure and
 * every descriptor and returns what the manifest references, so a PUT can refuse a manifest naming a blob or
 * manifest the repository does not have.
 */
import { parseDigest } from './digest.js';

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

export const MANIFEST_MEDIA_TYPES: readonly string[] = [MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.ociIndex];

/** Layers that live elsewhere (`urls`) and need not be pushed. */
const FOREIGN_LAYERS = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
  readonly platform?: Record<string, unknown>;
  readonly urls?: readonly string[];
}

export interface ParsedManifest {
  readonly mediaType: string;
  readonly kind: 'image' | 'index';
  readonly config?: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly manifests: readonly Descriptor[];
  readonly subject?: Descriptor;
  /** For the referrers API: `artifactType`, else the config's media type. */
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
  /** Blobs that must be present in the repository (config and non-foreign layers). */
  readonly requiredBlobs: readonly string[];
}

export class ManifestError extends Error {
  override name = 'ManifestError';
  constructor(
    readonly reason: 'invalid' | 'unsupported',
    message: string,
  ) {
    super(message);
  }
}

const invalid = (m: string) => new ManifestError('invalid', m);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) throw invalid(`${what} must be an object of strings`);
  return v as Record<string, string>;
}

function descriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw invalid(`${what} must be a descriptor object`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/.test(mediaType)) {
    throw invalid(`${what}.mediaType must be a media type; got ${JSON.stringify(mediaType)}`);
  }
  if (typeof digest !== 'string' || parseDigest(digest) === undefined) throw invalid(`${what}.digest is not a valid sha256 or sha512 digest: ${JSON.stringify(digest)}`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${what}.size must be a non-negative integer`);
  const out: { -readonly [K in keyof Descriptor]: Descriptor[K] } = { mediaType, digest, size };
  if (v['artifactType'] !== undefined) {
    if (typeof v['artifactType'] !== 'string') throw invalid(`${what}.artifactType must be a string`);
    out.artifactType = v['artifactType'];
  }
  const annotations = stringMap(v['annotations'], `${what}.annotations`);
  if (annotations) out.annotations = annotations;
  if (v['platform'] !== undefined) {
    if (!isObject(v['platform']) || typeof v['platform']['os'] !== 'string' || typeof v['platform']['architecture'] !== 'string') {
      throw invalid(`${what}.platform must name os and architecture`);
    }
    out.platform = v['platform'];
  }
  if (v['urls'] !== undefined) {
    if (!Array.isArray(v['urls']) || v['urls'].some((u) => typeof u !== 'string')) throw invalid(`${what}.urls must be a list of strings`);
    out.urls = v['urls'] as string[];
  }
  return out;
}

function descriptors(v: unknown, what: string): Descriptor[] {
  if (!Array.isArray(v)) throw invalid(`${what} must be a list of descriptors`);
  return v.map((d, i) => descriptor(d, `${what}[${i}]`));
}

/**
 * Parses manifest bytes as `contentType` (the PUT's Content-Type; the manifest's own `mediaType` decides when
 * the header is absent or generic). Throws ManifestError.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw invalid(`the manifest is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw invalid('the manifest must be a JSON object');
  const declared = typeof doc['mediaType'] === 'string' ? doc['mediaType'] : undefined;
  if (doc['mediaType'] !== undefined && declared === undefined) throw invalid('mediaType must be a string');
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  const headerType = header !== undefined && header !== '' && header !== 'application/json' && header !== 'application/octet-stream' ? header : undefined;
  if (doc['schemaVersion'] === 1 || headerType === MediaType.dockerSchema1 || headerType === MediaType.dockerSchema1Signed) {
    throw new ManifestError('unsupported', 'Docker image manifest schema 1 is not supported; push with a current client (schema 2 or OCI)');
  }
  if (doc['schemaVersion'] !== 2) throw invalid(`schemaVersion must be 2; got ${JSON.stringify(doc['schemaVersion'])}`);
  if (headerType !== undefined && declared !== undefined && headerType !== declared) {
    throw invalid(`the Content-Type (${headerType}) differs from the manifest's mediaType (${declared})`);
  }
  const mediaType = headerType ?? declared ?? (Array.isArray(doc['manifests']) ? MediaType.ociIndex : MediaType.ociManifest);
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) throw new ManifestError('unsupported', `manifests of media type ${mediaType} are not supported`);
  const subject = doc['subject'] === undefined ? undefined : descriptor(doc['subject'], 'subject');
  const annotations = stringMap(doc['annotations'], 'annotations');
  const artifactTypeField = doc['artifactType'];
  if (artifactTypeField !== undefined && typeof artifactTypeField !== 'string') throw invalid('artifactType must be a string');
  const common = {
    mediaType,
    ...(subject ? { subject } : {}),
    ...(annotations ? { annotations } : {}),
  };

  if (mediaType === MediaType.dockerManifestList || mediaType === MediaType.ociIndex) {
    if (doc['config'] !== undefined || doc['layers'] !== undefined) throw invalid('an index has manifests, not config or layers');
    const manifests = descriptors(doc['manifests'], 'manifests');
    if (mediaType === MediaType.dockerManifestList && manifests.some((m) => m.platform === undefined)) {
      throw invalid('every entry of a Docker manifest list must name its platform');
    }
    return {
      ...common,
      kind: 'index',
      layers: [],
      manifests,
      requiredBlobs: [],
      ...(typeof artifactTypeField === 'string' ? { artifactType: artifactTypeField } : {}),
    };
  }
  if (doc['manifests'] !== undefined) throw invalid('an image manifest has config and layers, not manifests');
  const config = descriptor(doc['config'], 'config');
  const layers = descriptors(doc['layers'] ?? (mediaType === MediaType.ociManifest ? undefined : []), 'layers');
  if (mediaType === MediaType.dockerManifest && layers.length === 0) throw invalid('a Docker image manifest needs at least one layer');
  const required = [config.digest, ...layers.filter((l) => !(FOREIGN_LAYERS.has(l.mediaType) && (l.urls?.length ?? 0) > 0)).map((l) => l.digest)];
  const artifactType = typeof artifactTypeField === 'string' ? artifactTypeField : config.mediaType !== MediaType.ociEmpty ? config.mediaType : undefined;
  return {
    ...common,
    kind: 'image',
    config,
    layers,
    manifests: [],
    requiredBlobs: [...new Set(required)],
    ...(artifactType !== undefined ? { artifactType } : {}),
  };
}
