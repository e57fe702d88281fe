/**
 * `POST /agent/v1/register`: how a host joins a cluster. The agent signs the request (SigV4, service
 * `ecs`) with the cluster join token or an account access key; Gantry registers the container instance
 * through the same RegisterContainerInstance operation the ECS API serves, and answers with credentials
 * that may act for that instance only. A retried registration (same clientToken) returns the same instance.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Credential } from '../auth/principals.js';
import { verifySigV4 } from '../auth/sigv4.js';
import type { SecretLookup } from '../auth/sigv4.js';
import { ApiError, Ecs, Protocol } from '../domain/errors.js';
import type { Operation, RequestContext } from '../api/ecs/context.js';
import type { ServiceModel } from '../protocol/awsjson/model.js';
import { validateInput } from '../protocol/awsjson/model.js';
import type { AgentRegisterRequest, AgentRegisterResponse } from '../protocol/agent/messages.js';
import { AGENT_REGISTER_PATH } from '../protocol/agent/messages.js';
import type { Catalog } from '../state/catalog.js';
import { deleteOp } from '../state/catalog.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { issueAgentCredential } from './agent-credentials.js';
import type { AgentCredentials } from './agent-credentials.js';

export interface RegistrationDeps {
  readonly catalog: Catalog;
  readonly model: ServiceModel;
  readonly registerContainerInstance: Operation;
  readonly agentCredentials: AgentCredentials;
  readonly lookup: (accessKeyId: string) => Credential | undefined;
  readonly region: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

const MAX_BODY = 1024 * 1024;

export function registrationRoute(deps: RegistrationDeps) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== AGENT_REGISTER_PATH) return false;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      register(deps, req, Buffer.concat(chunks), size > MAX_BODY)
        .then((out) => reply(res, 200, out))
        .catch((e: unknown) => {
          const err = e instanceof ApiError ? e : Ecs.server('registration failed', e);
          if (err.fault === 'server') deps.logger.error('agent registration failed', { error: e });
          reply(res, err.status, { __type: err.code, message: err.message });
        });
    });
    return true;
  };
}

async function register(deps: RegistrationDeps, req: IncomingMessage, body: Buffer, tooLarge: boolean): Promise<AgentRegisterResponse> {
  if (tooLarge) throw Protocol.serialization('Registration request is too large.');
  const lookup: SecretLookup = (id) => deps.lookup(id);
  const verified = verifySigV4({ method: 'POST', url: req.url ?? '/', headers: req.headersDistinct, body }, { region: deps.region, services: ['ecs'], nowMs: deps.clock.now() }, lookup);
  const principal = deps.lookup(verified.accessKeyId)!.principal;
  if (principal.kind === 'agent') {
    throw Ecs.accessDenied('Instance credentials cannot register instances; use the cluster join token (gantry join-token) or an access key.');
  }
  let input: AgentRegisterRequest;
  try {
    input = JSON.parse(body.toString('utf8')) as AgentRegisterRequest;
  } catch {
    throw Protocol.serialization('The registration body is not valid JSON.');
  }
  const request = {
    cluster: input.cluster,
    totalResources: input.totalResources,
    attributes: input.attributes,
    versionInfo: input.versionInfo,
    ...(input.tags ? { tags: input.tags } : {}),
    ...(input.containerInstanceArn ? { containerInstanceArn: input.containerInstanceArn } : {}),
    clientToken: input.clientToken,
  };
  validateInput(deps.model, 'RegisterContainerInstance', request);
  const ctx: RequestContext = { requestId: 'agent-register', principalArn: principal.arn, operation: 'RegisterContainerInstance' };
  const out = (await (deps.registerContainerInstance as (i: unknown, c: RequestContext) => Promise<{ containerInstance: { containerInstanceArn: string } }>)(request, ctx));
  const arn = out.containerInstance.containerInstanceArn;
  const cluster = arn.split('/')[1]!;
  // New credentials for every registration; any older ones of the instance are revoked in the same commit.
  const credential = await deps.catalog.transact(() => {
    const issued = issueAgentCredential(cluster, arn, deps.clock.now());
    const revoke = deps.agentCredentials.of(arn).map((c) => deleteOp('agent-credential', c.value.accessKeyId, c));
    return { ops: [...revoke, issued.op], result: issued.record };
  });
  deps.logger.info('container instance registered', { containerInstanceArn: arn, by: principal.kind });
  return { containerInstanceArn: arn, accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, region: deps.region };
}

function reply(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...(status >= 400 ? { 'x-amzn-ErrorType': (body as { __type?: string }).__type ?? 'Error' } : {}),
  });
  res.end(text);
}
