/**
 * The agent's state directory: who this instance is (its ARN and credentials from the last registration), the
 * registration token that makes a retried registration idempotent, and the outbox journal. One agent per
 * directory, enforced by a pid lock.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { syncDir } from './outbox.js';

export interface AgentState {
  readonly version: 1;
  readonly cluster: string;
  /** Idempotency token of the registration, written before the first attempt. */
  readonly clientToken: string;
  readonly containerInstanceArn?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly region?: string;
  /** Digest of what was registered (resources, attributes), to re-register when it changes. */
  readonly registrationDigest?: string;
}

export const STATE_FILE = 'state.json';
const LOCK_FILE = 'agent.lock';

export class StateDirError extends Error {
  override name = 'StateDirError';
}

export function loadState(dir: string): AgentState | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, STATE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const s = JSON.parse(text) as AgentState;
  if (s.version !== 1 || typeof s.cluster !== 'string' || typeof s.clientToken !== 'string') {
    throw new StateDirError(`${join(dir, STATE_FILE)} is not an agent state file this version understands.`);
  }
  return s;
}

/**
 * Atomically replaces the state (it holds a secret: mode 0600). `durable` also fsyncs it and the directory,
 * so the state survives a host crash and not only a process crash.
 */
export function saveState(dir: string, state: AgentState, durable = true): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, STATE_FILE);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state, null, 2) + '\n');
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (durable) syncDir(dir);
}

export function newState(cluster: string): AgentState {
  return { version: 1, cluster, clientToken: randomUUID() };
}

/**
 * Takes the directory's lock; throws if another live agent holds it. A lock left by a dead process (crash,
 * SIGKILL) is taken over.
 */
export function lockStateDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  if (heldHere.has(path)) throw new StateDirError(`another agent in this process is using the state directory ${dir}.`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      heldHere.add(path);
      return () => {
        heldHere.delete(path);
        rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(path, 'utf8').trim());
      // Our own pid in a lock we do not hold is a leftover of an earlier process that had the same pid.
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new StateDirError(`another agent (pid ${holder}) is using the state directory ${dir}.`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new StateDirError(`could not lock the state directory ${dir}.`);
}

const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
