/**
 * The registry's master key: from `GANTRY_REGISTRY_MASTER_KEY` (32 bytes, base64 or hex; the configuration
 * passes it in) or from `<data-dir>/registry/master.key`, generated on first start (mode 0600). It only wraps
 * per-file data keys (./sealed-format.ts); losing it makes every stored blob unreadable, so back it up with
 * the data directory, or keep it in a secret manager and pass it in the environment.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { masterKey } from './sealed-format.js';
import type { MasterKey } from './sealed-format.js';

export function parseMasterKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  const b = Buffer.from(t, 'base64');
  return b.length === 32 ? b : undefined;
}

export function loadMasterKey(opts: { readonly file: string; readonly fromEnv?: string | undefined }): MasterKey {
  if (opts.fromEnv !== undefined && opts.fromEnv !== '') {
    const key = parseMasterKey(opts.fromEnv);
    if (!key) throw new Error('GANTRY_REGISTRY_MASTER_KEY must be 32 bytes, as 64 hex digits or base64');
    return masterKey(key);
  }
  if (!existsSync(opts.file)) {
    mkdirSync(dirname(opts.file), { recursive: true, mode: 0o700 });
    writeFileSync(opts.file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(opts.file, 0o600);
  const key = parseMasterKey(readFileSync(opts.file, 'utf8'));
  if (!key) throw new Error(`${opts.file} does not hold a 32-byte key (base64 or hex)`);
  return masterKey(key);
}
