/**
 * Signs AWS JSON 1.1 requests with the real SDK signer (@smithy/signature-v4), for tests and benchmarks
 * that need raw HTTP control (bad signatures, skewed clocks, malformed bodies, pre-signed load).
 */
import { createHash, createHmac } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Source): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

class NodeSha256 {
  #h: Hash | ReturnType<typeof createHmac>;
  readonly #secret: string | Uint8Array | undefined;
  constructor(secret?: Source) {
    this.#secret = secret === undefined ? undefined : bytes(secret);
    this.#h = this.#fresh();
  }
  #fresh() {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: Source): void {
    this.#h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#h.digest());
  }
  reset(): void {
    this.#h = this.#fresh();
  }
}

export interface SignInput {
  readonly url: string;
  readonly target: string;
  readonly body: string;
  readonly service: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly date?: Date;
  /**
   * Sign (and send) `x-amz-content-sha256`, as the JS SDK does (default). With false, the request is signed the way
   * the CLI and boto3 sign it: content-type;host;x-amz-date;x-amz-target, the body covered only by the signature.
   */
  readonly applyChecksum?: boolean;
}

export interface SignedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export async function signJsonRequest(input: SignInput): Promise<SignedRequest> {
  const u = new URL(input.url);
  const signer = new SignatureV4({
    service: input.service,
    region: input.region,
    credentials: { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey },
    sha256: NodeSha256,
    applyChecksum: input.applyChecksum ?? true,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: u.protocol,
      hostname: u.hostname,
      ...(u.port ? { port: Number(u.port) } : {}),
      path: u.pathname,
      headers: {
        host: u.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': input.target,
      },
      body: input.body,
    },
    input.date === undefined ? {} : { signingDate: input.date },
  );
  return { url: input.url, headers: signed.headers as Record<string, string>, body: input.body };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: any;
}

/** Sends a request exactly as given (node:http, so the Host header is ours, unlike fetch). */
export function sendRaw(url: string, headers: Record<string, string>, body: string | Buffer, method = 'POST'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const sendSigned = (req: SignedRequest): Promise<RawResponse> => sendRaw(req.url, req.headers, req.body);
