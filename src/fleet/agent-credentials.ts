/**
 * Per-instance agent credentials: issued when an instance registers, valid only for that instance (the
 * agent channel checks the instance it connects for), revoked when the instance is deregistered.
 * Stored in the catalog, so every server replica knows them and they survive restarts.
 */
import { generateAccessKey } from '../auth/root-credentials.js';
import type { Credential } from '../auth/principals.js';
import type { Catalog, Versioned } from '../state/catalog.js';
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

export function agentCredential(catalog: Catalog, accessKeyId: string): Credential | undefined {
  const v = catalog.get<AgentCredentialRecord>(AGENT_CREDENTIAL_KIND, accessKeyId)?.value;
  if (!v) return undefined;
  return {
    accessKeyId: v.accessKeyId,
    secretAccessKey: v.secretAccessKey,
    principal: { arn: v.containerInstanceArn, kind: 'agent', scope: { cluster: v.cluster, containerInstanceArn: v.containerInstanceArn } },
  };
}

/** The credentials issued to an instance (to revoke them when it is deregistered). */
export function credentialsOf(catalog: Catalog, containerInstanceArn: string): Versioned<AgentCredentialRecord>[] {
  const out: Versioned<AgentCredentialRecord>[] = [];
  for (const [, v] of catalog.all<AgentCredentialRecord>(AGENT_CREDENTIAL_KIND)) {
    if (v.value.containerInstanceArn === containerInstanceArn) out.push(v);
  }
  return out;
}
