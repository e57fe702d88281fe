import { startUp, UP_CLUSTER } from '../app/up.js';
import type { RunningSystem } from '../app/up.js';
import { compileServerConfig } from '../config/server-config.js';
import type { ServerConfig, ServerFlags } from '../config/server-config.js';
import { createLogger } from '../util/log.js';
import type { Command } from './main.js';
import { untilSignal } from './signals.js';
import { SERVER_FLAGS_HELP, SERVER_OPTIONS } from './server-command.js';

export const upCommand: Command = {
  summary: 'Start the whole system on this machine: server, store, Docker engine and a local agent (npm start)',
  usage: `Usage: gantry up [options]

Starts Gantry on this machine: the server with its embedded store, a Docker engine (the one at DOCKER_HOST or
/var/run/docker.sock; otherwise Gantry starts one with its data under the data directory, installing Debian's
docker.io first if needed), and an agent that joins this host to the '${UP_CLUSTER}' cluster. The local agent
uses images already on this host when present (pull behaviour prefer-cached) and imports a small busybox image,
gantry/busybox:latest, for the quick start. Ctrl+C stops Gantry; containers of running tasks keep running and are
adopted again on the next start.

${SERVER_FLAGS_HELP}`,
  options: SERVER_OPTIONS,
  async run(values) {
    const config = compileServerConfig(values as ServerFlags, process.env, process.stderr.isTTY);
    const logger = createLogger({ level: config.logLevel, format: config.logFormat });
    const progress = (line: string) => process.stderr.write(`gantry: ${line}\n`);
    progress(`starting in ${config.dataDir}`);
    const system = await startUp({ config, logger, env: process.env, progress });
    process.stdout.write(banner(system, config));
    await untilSignal(logger, () => system.close(), 'shutting down; task containers keep running');
    return 0;
  },
};

function banner(system: RunningSystem, config: ServerConfig): string {
  const { server } = system;
  const c = server.credentials;
  const url = server.url;
  const secret =
    c.source === 'generated'
      ? c.secretAccessKey
      : c.source === 'environment'
        ? '<the value of GANTRY_SECRET_ACCESS_KEY>'
        : `$(node bin/gantry.js credentials --data-dir ${config.dataDir} | sed -n 's/^export AWS_SECRET_ACCESS_KEY=//p')`;
  const image = system.demoImage;
  const lines = [
    '',
    `Gantry is running at ${url}  (region ${config.region}, account ${config.accountId})`,
    `  data directory: ${config.dataDir}`,
    `  this host joined cluster '${UP_CLUSTER}' as ${system.agent.containerInstanceArn ?? 'a container instance'}`,
    `  Docker engine: ${system.engine.host}${system.engine.startedByUs ? ' (started by Gantry)' : ''}`,
    '',
    'Set up your shell for the AWS CLI:',
    `  export AWS_ACCESS_KEY_ID=${c.accessKeyId}`,
    `  export AWS_SECRET_ACCESS_KEY=${secret}`,
    `  export AWS_DEFAULT_REGION=${config.region}`,
    `  alias ecs='aws ecs --endpoint-url ${url}'`,
    ...(system.engine.startedByUs ? [`  export DOCKER_HOST=${system.engine.host}    # for the docker CLI`] : []),
  ];
  if (image) {
    lines.push(
      '',
      `Run a web server from the built-in image ${image}:`,
      `  ecs register-task-definition --family hello --container-definitions '[{"name":"web","image":"${image}","memory":32,"linuxParameters":{"initProcessEnabled":true},"portMappings":[{"containerPort":8080}],"command":["sh","-c","echo hello from gantry > /var/www/index.html; exec httpd -f -p 8080 -h /var/www"]}]'`,
      `  TASK=$(ecs run-task --task-definition hello --query 'tasks[0].taskArn' --output text)`,
      '  ecs wait tasks-running --tasks $TASK',
      `  PORT=$(ecs describe-tasks --tasks $TASK --query 'tasks[0].containers[0].networkBindings[0].hostPort' --output text)`,
      '  curl http://127.0.0.1:$PORT/',
      '  ecs stop-task --task $TASK --reason done',
    );
  }
  lines.push(
    '',
    'Join more hosts (run on each):',
    `  gantry agent --endpoint ${url} --cluster ${UP_CLUSTER} --join-token ${server.joinToken()}`,
    'Press Ctrl+C to stop Gantry (task containers keep running).',
    '',
  );
  return lines.join('\n');
}

