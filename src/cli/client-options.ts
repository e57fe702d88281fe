/**
 * What every client command (`gantry logs`, `gantry explain`, `gantry registry`) needs to talk to a server: the endpoint, the region
 * to sign for, and an access key — resolved the way AWS clients resolve them, so the same environment works for
 * `aws` and for `gantry`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadRootCredentials } from '../auth/root-credentials.js';
import type { SigningCredentials } from '../auth/sigv4-sign.js';
import { ConfigError, defaultDataDir } from '../config/server-config.js';

/** The usage lines for the options below. */
export const CLIENT_FLAGS_HELP = `  --endpoint URL        The server (env GANTRY_ENDPOINT, AWS_ENDPOINT_URL_ECS — _ECR for registry commands — or
                        AWS_ENDPOINT_URL; default http://127.0.0.1:7400)
  --region REGION       Region to sign for (env AWS_REGION, AWS_DEFAULT_REGION or GANTRY_REGION; default us-east-1)
  --data-dir DIR        Where to find the root access key when AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not
                        set (env GANTRY_DATA_DIR; default ~/.local/share/gantry)`;

export const CLIENT_OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

export interface ClientTarget {
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: SigningCredentials;
}

/** `service` picks the AWS_ENDPOINT_URL_<SERVICE> variable, as the JS SDK reads it. */
export function clientTarget(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv, service: 'ecs' | 'ecr' = 'ecs'): ClientTarget {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' && values[k] !== '' ? (values[k] as string) : undefined);
  const given = str('endpoint') ?? env['GANTRY_ENDPOINT'] ?? env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? env['AWS_ENDPOINT_URL'] ?? 'http://127.0.0.1:7400';
  let endpoint: URL;
  try {
    endpoint = new URL(given);
  } catch {
    throw new ConfigError(`--endpoint must be a URL like http://127.0.0.1:7400; got '${given}'.`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new ConfigError(`--endpoint must be an http:// or https:// URL; got '${given}'.`);
  return {
    endpoint,
    region: str('region') ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? env['GANTRY_REGION'] ?? 'us-east-1',
    credentials: credentialsFrom(env, str('data-dir')),
  };
}

/** The AWS_* environment first (as every AWS client reads it), else the root key the server keeps on this machine. */
function credentialsFrom(env: NodeJS.ProcessEnv, dataDirFlag: string | undefined): SigningCredentials {
  const id = env['AWS_ACCESS_KEY_ID'];
  const secret = env['AWS_SECRET_ACCESS_KEY'];
  if (id && secret) return { accessKeyId: id, secretAccessKey: secret, ...(env['AWS_SESSION_TOKEN'] ? { sessionToken: env['AWS_SESSION_TOKEN'] } : {}) };
  const dataDir = dataDirFlag ?? defaultDataDir(env);
  if (!(env['GANTRY_ACCESS_KEY_ID'] && env['GANTRY_SECRET_ACCESS_KEY']) && !existsSync(join(dataDir, 'credentials.json'))) {
    throw new ConfigError(
      `no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (eval "$(gantry credentials)" on the server's machine), or point --data-dir at the server's data directory (${dataDir} has no credentials.json).`,
    );
  }
  const root = loadRootCredentials(dataDir, env);
  return { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
}
