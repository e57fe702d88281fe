/**
 * A registry just big enough for `docker pull` of one image over plain HTTP on loopback (which Docker
 * trusts without TLS): the distribution API's version check with Basic auth, one schema 2 manifest and
 * its blobs. It lets tests pull with credentials offline; Gantry's real registry is elsewhere.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { gzipSync } from 'node:zlib';

export interface RegistryStub {
  /** `127.0.0.1:port`: the registry part of image references and the auth server address. */
  readonly address: string;
  /** `sha256:…` of the manifest: what a pull must report. */
  readonly digest: string;
  /** Authorization headers seen, in order (for checking what credentials Docker sent). */
  readonly authorizations: string[];
  close(): Promise<void>;
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Serves `repository:tag` with one layer (`rootfsTar`), to `username`/`password` only. */
export async function startRegistryStub(opts: { repository: string; tag: string; rootfsTar: Buffer; username: string; password: string }): Promise<RegistryStub> {
  const layer = gzipSync(opts.rootfsTar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [sha256(opts.rootfsTar)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha256(layer) }],
    }),
  );
  const blobs = new Map([
    [sha256(config), config],
    [sha256(layer), layer],
  ]);
  const expected = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
  const authorizations: string[] = [];

  const server: Server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    authorizations.push(auth);
    if (auth !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="gantry-test"', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const url = req.url ?? '';
    const send = (body: Buffer, type: string, digest: string): void => {
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Docker-Content-Digest': digest });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url === '/v2/') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    } else if (url === `/v2/${opts.repository}/manifests/${opts.tag}` || url === `/v2/${opts.repository}/manifests/${sha256(manifest)}`) {
      send(manifest, 'application/vnd.docker.distribution.manifest.v2+json', sha256(manifest));
    } else if (url.startsWith(`/v2/${opts.repository}/blobs/`) && blobs.has(url.split('/').pop()!)) {
      const digest = url.split('/').pop()!;
      send(blobs.get(digest)!, 'application/octet-stream', digest);
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    digest: sha256(manifest),
    authorizations,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
