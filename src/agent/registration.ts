/**
 * Registration: what this instance offers (resources, attributes, the capabilities of this agent) and the
 * signed `POST /agent/v1/register` that turns it into a container instance with its own credentials.
 *
 * Capabilities use the attribute names the ECS agent advertises and src/domain/task-definition/attributes.ts
 * derives `requiresAttributes` from, so a definition is placeable here exactly when this agent can run it.
 */
import { createHash } from 'node:crypto';
import type { AgentRegisterRequest, AgentRegisterResponse } from '../protocol/agent/messages.js';
import { AGENT_REGISTER_PATH } from '../protocol/agent/messages.js';
import { signRequest } from '../auth/sigv4-sign.js';
import type { HostInfo } from './runtime/runtime.js';
import { SUPPORTED_LOG_DRIVERS } from './task-engine/container-spec.js';

const LEGACY = 'com.amazonaws.ecs.capability.';
const CURRENT = 'ecs.capability.';
/** The Docker Remote API versions the ECS agent lists; every feature this agent uses is covered by 1.41. */
const DOCKER_API_MINORS = { from: 17, to: 41 };

/** What this agent can do, as ECS capability attributes. */
export function capabilityAttributes(): { name: string }[] {
  const names: string[] = [];
  for (let v = DOCKER_API_MINORS.from; v <= DOCKER_API_MINORS.to; v++) names.push(`${LEGACY}docker-remote-api.1.${v}`);
  for (const d of SUPPORTED_LOG_DRIVERS) names.push(`${LEGACY}logging-driver.${d}`);
  names.push(
    `${LEGACY}privileged-container`,
    `${CURRENT}container-health-check`,
    `${CURRENT}container-ordering`,
    `${CURRENT}task-cpu-mem-limit`,
    `${CURRENT}pid-ipc-namespace-sharing`,
    `${CURRENT}docker-plugin.local`,
    `${CURRENT}container-restart-policy`,
    `${CURRENT}network.container-port-range`,
  );
  return names.map((name) => ({ name }));
}

export interface RegistrationInput {
  readonly cluster: string;
  readonly host: HostInfo;
  /** Replaces what the host reports (hollow instances). */
  readonly resources?: { readonly cpu: number; readonly memoryMiB: number };
  readonly reservedMemoryMiB: number;
  readonly reservedPorts: readonly number[];
  readonly reservedPortsUdp: readonly number[];
  readonly zone?: string;
  readonly instanceType?: string;
  readonly attributes: readonly { readonly name: string; readonly value?: string }[];
  readonly agentVersion: string;
}

export class RegistrationError extends Error {
  override name = 'RegistrationError';
  constructor(
    message: string,
    /** Worth retrying (network trouble, a server error) rather than a refusal. */
    readonly retryable: boolean,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The registration request, minus the token and ARN (see `withIdentity`). */
export function registrationBody(input: RegistrationInput): Omit<AgentRegisterRequest, 'clientToken' | 'containerInstanceArn'> {
  const cpu = input.resources?.cpu ?? input.host.cpus * 1024;
  const memory = (input.resources?.memoryMiB ?? input.host.memoryMiB) - input.reservedMemoryMiB;
  if (memory <= 0) {
    throw new RegistrationError(`--reserved-memory (${input.reservedMemoryMiB} MiB) leaves no memory for tasks on this host.`, false);
  }
  const attributes: { name: string; value?: string }[] = [
    { name: 'ecs.os-type', value: input.host.os },
    { name: 'ecs.os-family', value: input.host.os === 'linux' ? 'LINUX' : input.host.os.toUpperCase() },
    { name: 'ecs.cpu-architecture', value: input.host.architecture },
  ];
  if (input.zone !== undefined) attributes.push({ name: 'ecs.availability-zone', value: input.zone });
  if (input.instanceType !== undefined) attributes.push({ name: 'ecs.instance-type', value: input.instanceType });
  attributes.push(...capabilityAttributes(), ...input.attributes.map((a) => ({ ...a })));
  return {
    cluster: input.cluster,
    totalResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: cpu },
      { name: 'MEMORY', type: 'INTEGER', integerValue: memory },
      { name: 'PORTS', type: 'STRINGSET', stringSetValue: input.reservedPorts.map(String) },
      { name: 'PORTS_UDP', type: 'STRINGSET', stringSetValue: input.reservedPortsUdp.map(String) },
    ],
    attributes,
    versionInfo: { agentVersion: input.agentVersion, dockerVersion: input.host.runtimeVersion },
  };
}

/** Changes in what was registered call for a re-registration. */
export function registrationDigest(body: object): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

export interface RegisterCall {
  readonly endpoint: string;
  readonly region: string;
  readonly key: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly request: AgentRegisterRequest;
  readonly nowMs: number;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

export async function register(call: RegisterCall): Promise<AgentRegisterResponse> {
  const url = new URL(AGENT_REGISTER_PATH, call.endpoint).toString();
  const body = JSON.stringify(call.request);
  const headers = signRequest(
    { method: 'POST', url, headers: { 'content-type': 'application/json' }, body },
    { service: 'ecs', region: call.region, credentials: call.key, nowMs: call.nowMs },
  );
  // fetch sets Host itself (from the URL, as signed); it refuses to be handed one.
  delete headers['host'];
  let res: Response;
  try {
    res = await (call.fetch ?? fetch)(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(call.timeoutMs ?? 30_000) });
  } catch (e) {
    throw new RegistrationError(`cannot reach ${call.endpoint}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`, true);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json ?? {}) as { __type?: string; message?: string };
    const code = err.__type?.split('#').pop();
    throw new RegistrationError(
      `registration refused (${res.status}${code ? ` ${code}` : ''}): ${err.message ?? text.slice(0, 200)}`,
      res.status >= 500 || res.status === 429 || code === 'ThrottlingException',
      code,
    );
  }
  const out = json as Partial<AgentRegisterResponse> | undefined;
  if (typeof out?.containerInstanceArn !== 'string' || typeof out.accessKeyId !== 'string' || typeof out.secretAccessKey !== 'string') {
    throw new RegistrationError(`the server's registration response is not what this agent expects: ${text.slice(0, 200)}`, true);
  }
  return { containerInstanceArn: out.containerInstanceArn, accessKeyId: out.accessKeyId, secretAccessKey: out.secretAccessKey, region: out.region ?? call.region };
}
