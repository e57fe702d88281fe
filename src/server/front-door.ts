/**
 * The one port (DESIGN.md "front door"): routes each HTTP request to the AWS JSON protocol, health checks,
 * and — as later parts arrive — the OCI registry (/v2/), the agent channel, the console and metrics.
 * Routing is by path and headers only; no route knows another's wire format.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../util/log.js';
import type { AwsJsonResponse } from '../protocol/awsjson/handler.js';
import type { IncomingSignedRequest } from '../auth/sigv4.js';

/** Largest request body accepted (ECR's UploadLayerPart carries base64 layer parts). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface Route {
  /** Returns true when it took the request. */
  (req: IncomingMessage, res: ServerResponse): boolean;
}

export interface FrontDoorDeps {
  readonly awsJson: (req: IncomingSignedRequest) => Promise<AwsJsonResponse>;
  readonly health: () => object;
  readonly logger: Logger;
  /** Extra routes tried before the 404 (registry, agent registration, console…). */
  readonly routes?: readonly Route[];
  /** HTTP upgrade handlers (the agent channel); each returns true when it took the request. */
  readonly upgrades?: readonly ((req: IncomingMessage, socket: Duplex, head: Buffer) => boolean)[];
}

export interface FrontDoor {
  readonly server: Server;
  listen(host: string, port: number): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createFrontDoor(deps: FrontDoorDeps): FrontDoor {
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 300_000 }, (req, res) => {
    if (req.method === 'POST' && req.headers['x-amz-target'] !== undefined) {
      readBody(req, MAX_BODY_BYTES)
        .then((body) => deps.awsJson({ method: req.method!, url: req.url ?? '/', headers: req.headersDistinct, body }))
        .then((r) => send(res, r.status, r.headers, r.body))
        .catch((e: unknown) => {
          if (e instanceof BodyTooLarge) {
            send(res, 413, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': 'SerializationException' },
              JSON.stringify({ __type: 'SerializationException', message: `Request body is larger than ${MAX_BODY_BYTES} bytes.` }));
          } else {
            deps.logger.warn('request aborted', { error: e });
            res.destroy();
          }
        });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && (path === '/healthz' || path === '/ping')) {
      send(res, 200, { 'Content-Type': 'application/json' }, JSON.stringify(deps.health()));
      return;
    }
    for (const route of deps.routes ?? []) if (route(req, res)) return;
    req.resume();
    send(res, 404, { 'Content-Type': 'application/json' }, JSON.stringify({
      message: `Nothing is served at ${req.method} ${path}. AWS API calls are POST / with an X-Amz-Target header; see /healthz for status.`,
    }));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    for (const u of deps.upgrades ?? []) if (u(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  return {
    server,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
