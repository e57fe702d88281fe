/**
 * The AWS JSON 1.1 protocol (CLIENTS.md; ECS-SEMANTICS.md §8): `POST /` with `X-Amz-Target:
 * <prefix>.<Operation>`, SigV4-signed, JSON in and out, errors as `{"__type","message"}` plus
 * `x-amzn-ErrorType`. This module is the only place that knows that wire format: operations receive plain
 * input objects and return plain output objects or throw ApiError.
 *
 * Order of checks, as AWS does it: target and service → signature → operation exists → body parses →
 * input matches the model → the operation runs.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, Ecs, Protocol } from '../../domain/errors.js';
import type { Logger } from '../../util/log.js';
import type { Principal } from '../../auth/principals.js';
import type { IncomingSignedRequest } from '../../auth/sigv4.js';
import type { OperationTable, RequestContext } from '../../api/ecs/context.js';
import type { ServiceModel } from './model.js';
import { validateInput } from './model.js';

export const CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface AwsJsonService {
  readonly model: ServiceModel;
  readonly operations: OperationTable;
  /** Shown in the message for an operation of the model that Gantry does not implement yet. */
  readonly displayName: string;
}

export interface AwsJsonDeps {
  readonly services: readonly AwsJsonService[];
  /** Verifies the request's signature for the service's signing name; throws ApiError. */
  readonly authenticate: (req: IncomingSignedRequest, signingName: string) => Principal;
  readonly logger: Logger;
  /** Hook for per-operation metrics (name, status, seconds). */
  readonly observe?: (service: string, operation: string, status: number, seconds: number) => void;
}

export interface AwsJsonResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function createAwsJsonHandler(deps: AwsJsonDeps) {
  const byPrefix = new Map(deps.services.map((s) => [s.model.targetPrefix, s]));

  return async function handle(req: IncomingSignedRequest): Promise<AwsJsonResponse> {
    const requestId = randomUUID();
    const started = process.hrtime.bigint();
    const target = (req.headers['x-amz-target'] ?? [])[0] ?? '';
    const dot = target.lastIndexOf('.');
    const service = dot > 0 ? byPrefix.get(target.slice(0, dot)) : undefined;
    const operation = dot > 0 ? target.slice(dot + 1) : target;
    let status = 200;
    try {
      if (!service) {
        throw Protocol.unknownOperation(
          target === '' ? 'Missing X-Amz-Target header.' : `Unknown target '${target}'. Gantry serves ${[...byPrefix.keys()].join(' and ')}.`,
        );
      }
      const principal = deps.authenticate(req, service.model.signingName);
      if (!service.model.operations.has(operation)) {
        throw Protocol.unknownOperation(`${service.displayName} has no operation named '${operation}'.`);
      }
      const op = service.operations[operation];
      if (!op) {
        throw Ecs.unsupportedFeature(
          `Gantry does not support the ${service.displayName} operation ${operation} yet. See docs/compatibility.md for what is supported.`,
        );
      }
      const input = parseBody(req.body);
      validateInput(service.model, operation, input);
      const ctx: RequestContext = { requestId, principalArn: principal.arn, operation };
      const output = await (op as (i: unknown, c: RequestContext) => Promise<object>)(input, ctx);
      return { status, headers: headers(requestId), body: JSON.stringify(output) };
    } catch (e) {
      const err = e instanceof ApiError ? e : internalError(e, deps.logger, requestId, operation);
      status = err.status;
      if (err.fault === 'server') deps.logger.error('request failed', { requestId, operation, error: e });
      else deps.logger.debug('request refused', { requestId, operation, code: err.code, message: err.message });
      return {
        status,
        headers: { ...headers(requestId), 'x-amzn-ErrorType': err.code },
        body: JSON.stringify({ __type: err.code, message: err.message, ...err.extra }),
      };
    } finally {
      deps.observe?.(service?.model.signingName ?? 'unknown', operation, status, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

function headers(requestId: string): Record<string, string> {
  return { 'Content-Type': CONTENT_TYPE, 'x-amzn-RequestId': requestId };
}

function parseBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (e) {
    throw Protocol.serialization(`The request body is not valid JSON: ${(e as Error).message}`);
  }
}

function internalError(e: unknown, logger: Logger, requestId: string, operation: string): ApiError {
  logger.error('internal error', { requestId, operation, error: e });
  return Ecs.server(`Gantry hit an internal error handling ${operation} (request ${requestId}). It has been logged; please retry.`, e);
}
