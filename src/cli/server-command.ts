import { startServer } from '../app/server-app.js';
import type { RunningServer } from '../app/server-app.js';
import { compileServerConfig } from '../config/server-config.js';
import type { ServerConfig, ServerFlags } from '../config/server-config.js';
import { loadRootCredentials } from '../auth/root-credentials.js';
import { formatJoinToken, loadJoinToken, rotateJoinToken } from '../fleet/join-token.js';
import { createLogger } from '../util/log.js';
import type { Command } from './main.js';
import { untilSignal } from './signals.js';

export const SERVER_OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string', short: 'p' },
  'data-dir': { type: 'string' },
  'account-id': { type: 'string' },
  region: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'store-writer': { type: 'string' },
  'instance-lost-after': { type: 'string' },
  'service-task-healthy-after': { type: 'string' },
  'stopped-task-retention': { type: 'string' },
  'registry-host': { type: 'string' },
  'registry-gc-interval': { type: 'string' },
  'registry-lifecycle-interval': { type: 'string' },
} as const;

export const SERVER_FLAGS_HELP = `Options:
  --host HOST          Address to listen on (env GANTRY_HOST; default 127.0.0.1)
  -p, --port PORT      Port for the API, registry and agents (env GANTRY_PORT; default 7400; 0 = any free port)
  --data-dir DIR       Where state is kept (env GANTRY_DATA_DIR; default ~/.local/share/gantry)
  --account-id ID      12-digit account id used in every ARN (env GANTRY_ACCOUNT_ID; default 000000000000)
  --region REGION      Region used in ARNs and signatures (env GANTRY_REGION; default us-east-1)
  --log-level LEVEL    debug, info, warn or error (default info)
  --log-format FORMAT  text or json (default text)
  --store-writer MODE  thread (default: SQLite commits run on a writer thread, so the event loop keeps
                       serving while they run) or inline (commits on the event loop)
  --instance-lost-after DURATION
                       Agent silence after which an instance's tasks are stopped with stopCode
                       InfrastructureHealth so services replace them (default 2m)
  --service-task-healthy-after DURATION
                       How long a service task without container health checks must be RUNNING before a
                       rolling deployment counts it as healthy (env GANTRY_SERVICE_TASK_HEALTHY_AFTER; default 0s;
                       ECS waits about 40s)
  --stopped-task-retention DURATION
                       How long stopped tasks stay visible in DescribeTasks/ListTasks (default 1h)
  --registry-host HOST:PORT
                       Where clients reach the registry: repositoryUri, docker login, agents' pulls (env
                       GANTRY_REGISTRY_HOST; default the listen address, 127.0.0.1:PORT on loopback)
  --registry-gc-interval DURATION
                       How often unreferenced blobs and abandoned uploads are removed (default 1h)
  --registry-lifecycle-interval DURATION
                       How often ECR lifecycle policies expire images (default 1h)
  -h, --help           Show this help

Credentials: GANTRY_ACCESS_KEY_ID and GANTRY_SECRET_ACCESS_KEY set the root access key; without them a key is
generated on first start and kept in the data directory (see 'gantry credentials').
Registry blobs are encrypted with a master key: GANTRY_REGISTRY_MASTER_KEY (32 bytes, base64 or hex), or
one generated into <data-dir>/registry/master.key on first start.`;

export function serverCommand(name: 'server'): Command {
  return {
    summary: 'Run the control plane: ECS API, embedded store',
    usage: `Usage: gantry ${name} [options]\n\nStarts the Gantry control-plane server (ECS API, embedded store, agent channel); agents join it\nwith 'gantry agent'. 'gantry up' runs it together with a local agent and Docker.\n\n${SERVER_FLAGS_HELP}`,
    options: SERVER_OPTIONS,
    async run(values) {
      const config = compileServerConfig(values as ServerFlags, process.env, process.stderr.isTTY);
      const logger = createLogger({ level: config.logLevel, format: config.logFormat });
      const server = await startServer({ config, logger, env: process.env });
      process.stdout.write(banner(server, config));
      await untilSignal(logger, () => server.close());
      return 0;
    },
  };
}

export const credentialsCommand: Command = {
  summary: 'Print the root access key and the environment the AWS CLI needs',
  usage: `Usage: gantry credentials [--data-dir DIR] [--region REGION] [--port PORT]

Prints shell exports for the root access key kept in the data directory, and an example AWS CLI call.

Options:
  --data-dir DIR   The server's data directory (env GANTRY_DATA_DIR; default ~/.local/share/gantry)
  --region REGION  Region to put in AWS_DEFAULT_REGION (default us-east-1)
  -p, --port PORT  The server's port, for the example endpoint (default 7400)
  --host HOST      The server's host (default 127.0.0.1)`,
  options: { 'data-dir': { type: 'string' }, region: { type: 'string' }, port: { type: 'string', short: 'p' }, host: { type: 'string' } },
  async run(values) {
    const config = compileServerConfig(values as ServerFlags, process.env);
    const creds = loadRootCredentials(config.dataDir, process.env);
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
    process.stdout.write(
      [
        `export AWS_ACCESS_KEY_ID=${creds.accessKeyId}`,
        `export AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey}`,
        `export AWS_DEFAULT_REGION=${config.region}`,
        `export AWS_ENDPOINT_URL=${url}`,
        `# then: aws ecs list-clusters --endpoint-url ${url}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};

export const joinTokenCommand: Command = {
  summary: 'Show (or --rotate) the token agents use to join a cluster',
  usage: `Usage: gantry join-token [--rotate] [--data-dir DIR]

Prints the cluster join token. An agent started with --join-token TOKEN (or GANTRY_JOIN_TOKEN) registers its
host as a container instance and receives credentials for that instance only. --rotate replaces the token: a
running server uses the new one at once, the old one stops working, and instances that already joined keep
their own credentials.

Options:
  --rotate         Replace the token with a new one
  --data-dir DIR   The server's data directory (env GANTRY_DATA_DIR; default ~/.local/share/gantry)`,
  options: { rotate: { type: 'boolean' }, 'data-dir': { type: 'string' } },
  async run(values) {
    const config = compileServerConfig(values as ServerFlags, process.env);
    const key = values['rotate'] === true ? rotateJoinToken(config.dataDir) : loadJoinToken(config.dataDir);
    process.stdout.write(formatJoinToken(key) + '\n');
    if (values['rotate'] === true) process.stderr.write('The join token was rotated; the previous one no longer works.\n');
    return 0;
  },
};

function banner(server: RunningServer, config: ServerConfig): string {
  const c = server.credentials;
  const secretLine =
    c.source === 'generated'
      ? `  export AWS_SECRET_ACCESS_KEY=${c.secretAccessKey}`
      : c.source === 'environment'
        ? '  export AWS_SECRET_ACCESS_KEY=<the value of GANTRY_SECRET_ACCESS_KEY>'
        : `  export AWS_SECRET_ACCESS_KEY=...   # run 'gantry credentials' to print it (kept in ${c.file})`;
  return [
    '',
    `Gantry is running at ${server.url}  (region ${config.region}, account ${config.accountId})`,
    `Data directory: ${config.dataDir}`,
    c.source === 'generated' ? `A root access key was generated and saved to ${c.file} (readable only by you):` : 'Use it with the AWS CLI:',
    `  export AWS_ACCESS_KEY_ID=${c.accessKeyId}`,
    secretLine,
    `  export AWS_DEFAULT_REGION=${config.region}`,
    `  aws ecs create-cluster --cluster-name demo --endpoint-url ${server.url}`,
    `  aws ecs list-clusters --endpoint-url ${server.url}`,
    'Join a host to a cluster (run on that host):',
    `  gantry agent --endpoint ${server.url} --cluster demo --join-token ${server.joinToken()}`,
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}

