/**
 * Per-instance agent credentials: issued when an instance registers, valid only for that instance (the
 * agent channel checks the instance it connects for), revoked when the instance is deregistered.
 * Stored in the catalog, so every server replica knows them and they survive restarts.
 */
import { generateAccessKey } from '../auth/root-credentials.js';
import type { Credential } from '../auth/principals.js';
import type { Versioned } from '../state/catalog.js';
import type { EcsState } from '../state/ecs-state.js';
import { GroupIndex } from '../state/group-index.js';
import { putOp } from '../state/catalog.js';
import type { WriteOp } from '../store/types.js';

export const AGENT_CREDENTIAL_KIND = 'agent-credential';

export interface AgentCredentialRecord {
  accessKeyId: string;
  secretAccessKey: string;
  cluster: string;
  containerInstanceArn: string;
  createdAtMs: number;
}

/** A new credential for an instance, as the write that stores it. */
export function issueAgentCredential(cluster: string, containerInstanceArn: string, nowMs: number): { record: AgentCredentialRecord; op: WriteOp } {
  const key = generateAccessKey('GAGT');
  const record: AgentCredentialRecord = { ...key, cluster, containerInstanceArn, createdAtMs: nowMs };
  return { record, op: putOp(AGENT_CREDENTIAL_KIND, key.accessKeyId, record, undefined) };
}

/** Looks credentials up by key id (every request) and by instance (at registration), both from memory. */
export class AgentCredentials {
  readonly #byInstance: GroupIndex;

  constructor(private readonly state: EcsState) {
    this.#byInstance = new GroupIndex(state.catalog, AGENT_CREDENTIAL_KIND, (v) => (v as AgentCredentialRecord).containerInstanceArn);
  }

  /** The credential for a key id; none once its instance is deregistered (its credentials die with it). */
  lookup(accessKeyId: string): Credential | undefined {
    const v = this.state.catalog.get<AgentCredentialRecord>(AGENT_CREDENTIAL_KIND, accessKeyId)?.value;
    if (!v) return undefined;
    const instance = this.state.instance(v.cluster, v.containerInstanceArn.split('/').at(-1)!);
    if (!instance || instance.value.status === 'INACTIVE') return undefined;
    return {
      accessKeyId: v.accessKeyId,
      secretAccessKey: v.secretAccessKey,
      principal: { arn: v.containerInstanceArn, kind: 'agent', scope: { cluster: v.cluster, containerInstanceArn: v.containerInstanceArn } },
    };
  }

  /** The credentials issued to an instance (to replace them when it registers again). */
  of(containerInstanceArn: string): Versioned<AgentCredentialRecord>[] {
    const out: Versioned<AgentCredentialRecord>[] = [];
    for (const key of this.#byInstance.keys(containerInstanceArn)) {
      const v = this.state.catalog.get<AgentCredentialRecord>(AGENT_CREDENTIAL_KIND, key);
      if (v && v.value.containerInstanceArn === containerInstanceArn) out.push(v);
    }
    return out;
  }
}
