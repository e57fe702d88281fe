/**
 * Images made offline, as OCI image layouts on disk (image spec "Image Layout"), for skopeo to copy into and
 * out of registries in tests and benchmarks: random-content layers (each a valid tar in a gzip stream, stored
 * uncompressed inside the gzip so generating 200 MB takes a moment, not a minute), a config, a manifest, and
 * optionally a multi-platform index.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface LayoutImage {
  /** Digest of what the layout's index.json names for the tag (a manifest, or an index for several platforms). */
  readonly digest: string;
  readonly mediaType: string;
  /** Digests of every blob (configs, layers, manifests). */
  readonly blobs: readonly string[];
  /** Total bytes of the layers. */
  readonly layerBytes: number;
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A tar holding one file of `size` random bytes. */
function randomTar(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  header.write(Math.floor(Date.UTC(2024, 0, 1) / 1000).toString(8).padStart(11, '0') + '\0', 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write('0', 156, 'latin1');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const body = randomFillSync(Buffer.allocUnsafe(size));
  const pad = Buffer.alloc((512 - (size % 512)) % 512 + 1024);
  return Buffer.concat([header, body, pad]);
}

export interface LayoutOptions {
  readonly tag: string;
  /** Layer sizes in bytes (random content) for each platform's image. */
  readonly layers: readonly number[];
  /** Platforms: one → a plain image manifest; several → an OCI index of one image per platform. */
  readonly platforms?: readonly { readonly os: string; readonly architecture: string }[];
}

/** Writes an OCI layout at `dir` holding one tagged image (or index). */
export function writeOciLayout(dir: string, opts: LayoutOptions): LayoutImage {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const blobs: string[] = [];
  let layerBytes = 0;
  const put = (b: Buffer): string => {
    const d = sha256(b);
    writeFileSync(join(dir, 'blobs', 'sha256', d.slice(7)), b);
    blobs.push(d);
    return d;
  };
  const platforms = opts.platforms ?? [{ os: 'linux', architecture: process.arch === 'arm64' ? 'arm64' : 'amd64' }];
  const manifests = platforms.map((p, pi) => {
    const layers = opts.layers.map((size, i) => {
      const tar = randomTar(`layer-${pi}-${i}.bin`, size);
      const gz = gzipSync(tar, { level: 0 });
      layerBytes += gz.length;
      return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(gz), size: gz.length, diffId: sha256(tar) };
    });
    const config = Buffer.from(
      JSON.stringify({
        architecture: p.architecture,
        os: p.os,
        config: { Cmd: ['sh'] },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length },
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      }),
    );
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: put(manifest), size: manifest.length, platform: p };
  });
  let top: { mediaType: string; digest: string; size: number };
  if (manifests.length === 1) {
    const m = manifests[0]!;
    top = { mediaType: m.mediaType, digest: m.digest, size: m.size };
  } else {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: put(index), size: index.length };
  }
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': opts.tag } }] }),
  );
  return { digest: top.digest, mediaType: top.mediaType, blobs, layerBytes };
}
