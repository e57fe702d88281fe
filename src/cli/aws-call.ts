/**
 * One signed AWS JSON 1.1 call from a `gantry` client command to the server (ECS, or ECR with Gantry's
 * extensions): answers the HTTP status and the parsed body, so each command words errors its own way.
 */
import http from 'node:http';
import https from 'node:https';
import { signRequest } from '../auth/sigv4-sign.js';
import { ConfigError } from '../config/server-config.js';
import type { ClientTarget } from './client-options.js';

export type AwsService = 'ecs' | 'ecr';

const TARGET_PREFIX: Readonly<Record<AwsService, string>> = {
  ecs: 'AmazonEC2ContainerServiceV20141113',
  ecr: 'AmazonEC2ContainerRegistry_V20150921',
};

export interface AwsAnswer {
  readonly status: number;
  readonly body: unknown;
}

export async function callAws(target: ClientTarget, service: AwsService, operation: string, input: object): Promise<AwsAnswer> {
  const url = new URL('/', target.endpoint).toString();
  const body = JSON.stringify(input);
  const headers = signRequest(
    {
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${TARGET_PREFIX[service]}.${operation}` },
      body,
    },
    { service, region: target.region, credentials: target.credentials, nowMs: Date.now() },
  );
  const client = target.endpoint.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: { message: text } });
        }
      });
    });
    req.on('error', (e) => reject(new ConfigError(`cannot reach ${target.endpoint.origin}: ${e.message}`)));
    req.end(body);
  });
}

/** `TypeException: message` for an error answer, as the commands print it. */
export function describeFailure(answer: AwsAnswer): string {
  const err = answer.body as { __type?: string; message?: string };
  return `${err.__type ?? `HTTP ${answer.status}`}: ${err.message ?? JSON.stringify(answer.body)}`;
}
