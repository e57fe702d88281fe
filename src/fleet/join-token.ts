/**
 * The cluster join token: an access key that may do one thing — register a container instance — so hosts
 * can join without holding the account's keys. It lives in `<data-dir>/join-token` (mode 0600) as
 * `<accessKeyId>:<secretAccessKey>`; `gantry join-token --rotate` replaces the file and the running server
 * picks the new one up at the next registration (the file is re-read when it changes), so rotation needs no
 * restart and old tokens stop working at once. Instances that already joined keep their own credentials.
 */
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateAccessKey } from '../auth/root-credentials.js';
import type { AccessKey } from '../auth/root-credentials.js';

export const JOIN_TOKEN_FILE = 'join-token';

export function formatJoinToken(key: AccessKey): string {
  return `${key.accessKeyId}:${key.secretAccessKey}`;
}

export function parseJoinToken(token: string): AccessKey | undefined {
  const i = token.indexOf(':');
  if (i <= 0 || i === token.length - 1) return undefined;
  return { accessKeyId: token.slice(0, i).trim(), secretAccessKey: token.slice(i + 1).trim() };
}

function write(file: string, key: AccessKey): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, formatJoinToken(key) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Reads the join token, creating one on first use. */
export function loadJoinToken(dataDir: string): AccessKey {
  const file = join(dataDir, JOIN_TOKEN_FILE);
  if (existsSync(file)) {
    const key = parseJoinToken(readFileSync(file, 'utf8'));
    if (key) return key;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = generateAccessKey('GJTK');
  write(file, key);
  return key;
}

/** Replaces the join token with a new one. */
export function rotateJoinToken(dataDir: string): AccessKey {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = generateAccessKey('GJTK');
  write(join(dataDir, JOIN_TOKEN_FILE), key);
  return key;
}

/** The current token, re-read only when the file changes. */
export class JoinTokenSource {
  #cached: { key: AccessKey; mtimeMs: number } | undefined;
  constructor(private readonly dataDir: string) {}

  current(): AccessKey {
    const file = join(this.dataDir, JOIN_TOKEN_FILE);
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      /* created below */
    }
    if (!this.#cached || this.#cached.mtimeMs !== mtimeMs) {
      const key = loadJoinToken(this.dataDir);
      this.#cached = { key, mtimeMs: statSync(file).mtimeMs };
    }
    return this.#cached.key;
  }
}
