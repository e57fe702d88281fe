import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}
export interface RootCredentials extends AccessKey {
  /** Where the key came from: the environment, the data directory, or generated on this start. */
  readonly source: 'environment' | 'file' | 'generated';
  readonly file: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** An access key shaped like AWS's (20-character id, 40-character secret), so every client accepts it. */
export function generateAccessKey(prefix = 'AKIA'): AccessKey {
  const bytes = randomBytes(16);
  let id = prefix;
  for (let i = 0; id.length < 20; i++) id += ALPHABET[bytes[i]! % 32];
  return { accessKeyId: id, secretAccessKey: randomBytes(30).toString('base64').replace(/[+/]/g, (c) => (c === '+' ? 'x' : 'Z')) };
}

/**
 * The root access key: GANTRY_ACCESS_KEY_ID + GANTRY_SECRET_ACCESS_KEY when both are set; otherwise the
 * one stored in the data directory; otherwise a new one, written there readable by its owner only.
 */
export function loadRootCredentials(dataDir: string, env: NodeJS.ProcessEnv): RootCredentials {
  const file = join(dataDir, 'credentials.json');
  const id = env['GANTRY_ACCESS_KEY_ID'];
  const secret = env['GANTRY_SECRET_ACCESS_KEY'];
  if (id !== undefined && id !== '' && secret !== undefined && secret !== '') {
    return { accessKeyId: id, secretAccessKey: secret, source: 'environment', file };
  }
  if ((id ?? '') !== '' || (secret ?? '') !== '') {
    throw new Error('Set both GANTRY_ACCESS_KEY_ID and GANTRY_SECRET_ACCESS_KEY, or neither (Gantry then generates a key).');
  }
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<AccessKey>;
    if (typeof parsed.accessKeyId !== 'string' || typeof parsed.secretAccessKey !== 'string') {
      throw new Error(`${file} is damaged: it must hold accessKeyId and secretAccessKey. Delete it to generate a new key.`);
    }
    return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey, source: 'file', file };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = generateAccessKey();
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(key, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return { ...key, source: 'generated', file };
}
