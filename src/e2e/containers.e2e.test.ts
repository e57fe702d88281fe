/**
 * Containers end to end (issue #3): `gantry server` and `gantry agent` as processes, a real Docker engine, and
 * the AWS CLI and JS SDK as clients. Task definitions are registered and run through the API; what ECS
 * promises is checked twice — in DescribeTasks, and in what Docker really did (inspect, logs, files the
 * containers wrote to a host volume, HTTP to their published ports, syslog datagrams).
 *
 * To stay short every task starts at once in `before` and runs side by side; each test then waits only for
 * its own task. The longest is the restart policy's (a container must run 60 s before ECS restarts it).
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  waitUntilTasksRunning,
} from '@aws-sdk/client-ecs';
import type { Container, ContainerDefinition, ECSClient, LogDriver, RegisterTaskDefinitionCommandInput, Task } from '@aws-sdk/client-ecs';
import { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { LABELS } from '../agent/runtime/runtime.js';
import { dockerHostOrSkip, removeOrphanedTestContainers } from '../testing/docker.js';
import { startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import {
  MISSING_IMAGE,
  agentStateDir,
  awsAsync,
  dockerMs,
  freePort,
  inspect,
  instanceContainers,
  removeInstanceContainers,
  serverDataDir,
  sharedDir,
  startAgent,
  testImage,
  testLabels,
  until,
} from './docker-e2e.js';
import type { AgentProcess, Inspected } from './docker-e2e.js';
import { sdkClient } from './support.js';

const { host: dockerHost, skip } = await dockerHostOrSkip();

const JOIN_TOKEN = 'GJTKE2ECONTAINERS001:e2e-containers-join-secret-0000000000000';
const CLUSTER = 'containers';
const MiB = 1024 * 1024;
const CLEANUP_AFTER_S = 12;
const STOP_REASON = 'e2e: stopped by the containers suite';
/** Runs until SIGTERM, then exits 0. */
const IDLE = "trap 'exit 0' TERM; sleep 600 & wait";

let runtime: DockerRuntime;
let gantry: GantryProcess;
let ecs: ECSClient;
let agent: AgentProcess;
let image: string;
let instanceArn: string;
let outDir: string;
let stateDir: string;
let syslog: Socket;
const syslogLines: string[] = [];
let staticPort: number;
let hostModePort: number;
/** Whether this engine can run privileged containers at all (not where its own capabilities are limited). */
let privileged: { ok: true } | { ok: false; error: string };
/** Task ARNs by family. */
const arns: Record<string, string> = {};

async function describeTask(arn: string): Promise<Task> {
  const out = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }));
  assert.equal(out.tasks?.length, 1, `DescribeTasks ${arn}: ${JSON.stringify(out.failures)}`);
  return out.tasks![0]!;
}

const container = (t: Task, name: string): Container => {
  const c = t.containers?.find((x) => x.name === name);
  assert.ok(c, `task ${t.taskArn} has no container '${name}'`);
  return c;
};

/** Waits for a task to satisfy `ok`; a timeout says what the task looked like and what the agent last said. */
async function waitTask(family: string, what: string, ok: (t: Task) => boolean, timeoutMs = 40_000): Promise<Task> {
  let last: Task | undefined;
  try {
    return await until(`${family}: ${what}`, async () => {
      last = await describeTask(arns[family]!);
      return ok(last) ? last : undefined;
    }, timeoutMs, 200);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nlast DescribeTasks: ${JSON.stringify(last, null, 1)}\nagent log (tail):\n${agent.output().split('\n').slice(-25).join('\n')}`);
  }
}

const stopped = (family: string, timeoutMs?: number) => waitTask(family, 'STOPPED', (t) => t.lastStatus === 'STOPPED', timeoutMs);

async function dockerOf(t: Task, name: string): Promise<Inspected> {
  const id = container(t, name).runtimeId;
  assert.ok(id, `container '${name}' of ${t.taskArn} has no runtimeId`);
  return inspect(runtime, id);
}

function def(c: ContainerDefinition): ContainerDefinition {
  return { image, ...c, dockerLabels: { ...testLabels(), ...(c.dockerLabels ?? {}) } };
}

async function httpGet(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200, `GET 127.0.0.1:${port}${path}`);
  return (await res.text()).trim();
}

/** `key=value` lines a container wrote to the host volume. */
function facts(file: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(outDir, file), 'utf8').split('\n')) {
    const i = line.search(/[=:]/);
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

const capBit = (hex: string | undefined, bit: number): boolean => ((BigInt(`0x${hex ?? '0'}`) >> BigInt(bit)) & 1n) === 1n;
const CAP = { CHOWN: 0, NET_ADMIN: 12, SYS_ADMIN: 21 } as const;

/** The definitions, one family per group of features; registered in `before`. */
function definitions(): RegisterTaskDefinitionCommandInput[] {
  return [
    {
      // Bridge networking, every container-level passthrough, volumes, log drivers, health, stop order.
      family: 'features',
      networkMode: 'bridge',
      volumes: [
        { name: 'out', host: { sourcePath: outDir } },
        { name: 'report', host: { sourcePath: outDir } },
        { name: 'shared', dockerVolumeConfiguration: { scope: 'task', driver: 'local', labels: { 'e2e.volume': 'shared' } } },
      ],
      containerDefinitions: [
        def({
          name: 'web',
          entryPoint: ['/bin/sh', '-c'],
          command: [
            [
              'echo "$GREETING host=$(hostname) cwd=$(pwd) uid=$(id -u)" > index.html',
              'echo dynamic-port-page > dynamic.html',
              '{',
              '  echo "nofile=$(ulimit -n)/$(ulimit -Hn)"',
              '  echo "pid1=$(cat /proc/1/comm)"',
              '  grep CapEff /proc/self/status',
              '  echo "scratch=$(grep " /scratch " /proc/mounts)"',
              '  echo "shm=$(grep " /dev/shm " /proc/mounts)"',
              '  echo "memlimit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"',
              '  echo "memsoft=$(cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.low)"',
              '  echo "cpushares=$(cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || echo "weight $(cat /sys/fs/cgroup/cpu.weight)")"',
              '} > /out/web.txt',
              'echo shared-data > /shared/data.txt',
              'httpd -p 8080 -h /var/www',
              'httpd -p 8081 -h /var/www',
              'echo web-json-file-line',
              "trap 'exit 143' TERM",
              'sleep 600 & wait',
            ].join('\n'),
          ],
          workingDirectory: '/var/www',
          environment: [{ name: 'GREETING', value: 'hello-from-gantry' }],
          hostname: 'gantry-web',
          dockerLabels: { 'e2e.role': 'web' },
          cpu: 256,
          memory: 128,
          memoryReservation: 48,
          ulimits: [{ name: 'nofile', softLimit: 1500, hardLimit: 3000 }],
          linuxParameters: {
            initProcessEnabled: true,
            capabilities: { add: ['NET_ADMIN'], drop: ['CHOWN'] },
            tmpfs: [{ containerPath: '/scratch', size: 16, mountOptions: ['noexec'] }],
            sharedMemorySize: 40,
          },
          portMappings: [
            { containerPort: 8080, hostPort: staticPort, protocol: 'tcp' },
            { containerPort: 8081, hostPort: 0, protocol: 'tcp' },
          ],
          mountPoints: [
            { sourceVolume: 'out', containerPath: '/out' },
            { sourceVolume: 'shared', containerPath: '/shared' },
          ],
          healthCheck: { command: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/index.html'], interval: 5, timeout: 2, retries: 2 },
          logConfiguration: { logDriver: 'json-file', options: { 'max-size': '1m' } },
        }),
        def({
          name: 'reader',
          command: [
            'sh',
            '-c',
            [
              '{',
              '  echo "uid=$(id -u):$(id -g)"',
              '  echo "shared=$(cat /shared/data.txt)"',
              '  touch /rootfs-probe 2>/dev/null && echo rootfs=writable || echo rootfs=readonly',
              '  touch /shared/probe 2>/dev/null && echo volumesfrom=writable || echo volumesfrom=readonly',
              '} > /report/reader.txt',
              // Takes a second to stop: web, which it depends on, must only get its signal after that.
              "trap 'sleep 1; exit 0' TERM",
              'sleep 600 & wait',
            ].join('\n'),
          ],
          user: '65534:65534',
          readonlyRootFilesystem: true,
          memoryReservation: 16,
          volumesFrom: [{ sourceContainer: 'web', readOnly: true }],
          mountPoints: [{ sourceVolume: 'report', containerPath: '/report' }],
          dependsOn: [{ containerName: 'web', condition: 'HEALTHY' }],
          // Not in the ECS model's LogDriver enum, but the agent offers it (logging-driver.none) as the ECS agent does.
          logConfiguration: { logDriver: 'none' as LogDriver },
        }),
        def({
          name: 'priv',
          essential: false,
          privileged: true,
          memory: 16,
          command: ['sh', '-c', `grep CapEff /proc/self/status; ${IDLE}`],
        }),
        def({
          name: 'stubborn',
          essential: false,
          memory: 16,
          stopTimeout: 2,
          command: ['sh', '-c', "echo syslog-line-from-stubborn; trap '' TERM; sleep 600 & wait"],
          logConfiguration: {
            logDriver: 'syslog',
            options: { 'syslog-address': `udp://127.0.0.1:${(syslog.address() as { port: number }).port}`, tag: 'gantry-stubborn', 'syslog-format': 'rfc3164' },
          },
        }),
      ],
    },
    {
      // dependsOn conditions, non-essential exits, startTimeout, health checks passing and failing.
      family: 'deps',
      containerDefinitions: [
        def({ name: 'first', essential: false, memory: 16, command: ['sh', '-c', 'sleep 1; exit 0'] }),
        def({ name: 'failing', essential: false, memory: 16, command: ['sh', '-c', 'sleep 1; exit 3'] }),
        def({
          name: 'base',
          memory: 16,
          command: ['sh', '-c', `sleep 2; touch /tmp/ok; ${IDLE}`],
          healthCheck: { command: ['CMD-SHELL', 'test -f /tmp/ok'], interval: 5, timeout: 2, retries: 1 },
        }),
        def({ name: 'sick', memory: 16, command: ['sh', '-c', IDLE], healthCheck: { command: ['CMD', 'false'], interval: 5, timeout: 2, retries: 1 } }),
        def({ name: 'after-success', memory: 16, command: ['sh', '-c', IDLE], dependsOn: [{ containerName: 'first', condition: 'SUCCESS' }] }),
        def({ name: 'after-complete', memory: 16, command: ['sh', '-c', IDLE], dependsOn: [{ containerName: 'failing', condition: 'COMPLETE' }] }),
        def({ name: 'after-start', memory: 16, command: ['sh', '-c', IDLE], dependsOn: [{ containerName: 'base', condition: 'START' }] }),
        def({ name: 'after-healthy', memory: 16, command: ['sh', '-c', IDLE], dependsOn: [{ containerName: 'base', condition: 'HEALTHY' }] }),
        def({
          name: 'waiter',
          essential: false,
          memory: 16,
          startTimeout: 4,
          command: ['sh', '-c', IDLE],
          dependsOn: [{ containerName: 'sick', condition: 'HEALTHY' }],
        }),
      ],
    },
    {
      // No network; the essential container exits on its own and takes its sidecar down with it.
      family: 'quitter',
      networkMode: 'none',
      volumes: [{ name: 'out', host: { sourcePath: outDir } }],
      containerDefinitions: [
        def({
          name: 'main',
          memory: 16,
          command: ['sh', '-c', 'ls /sys/class/net > /out/none.txt; sleep 3; exit 7'],
          mountPoints: [{ sourceVolume: 'out', containerPath: '/out' }],
          dependsOn: [{ containerName: 'side', condition: 'START' }],
        }),
        def({ name: 'side', essential: false, memory: 16, command: ['sh', '-c', IDLE] }),
      ],
    },
    {
      family: 'oom',
      // The pause matters: a container the kernel kills within a few hundred ms of its start can die before
      // containerd watches its cgroup for OOM, and then Docker reports neither an oom event nor OOMKilled.
      containerDefinitions: [def({ name: 'hog', memory: 8, command: ['sh', '-c', 'sleep 1; a=x; while true; do a=$a$a; done'] })],
    },
    {
      family: 'missing',
      containerDefinitions: [def({ name: 'ghost', image: MISSING_IMAGE, memory: 16 })],
    },
    {
      family: 'hostnet',
      networkMode: 'host',
      containerDefinitions: [
        def({
          name: 'web',
          memory: 16,
          command: ['sh', '-c', `echo host-mode-page > /tmp/index.html; httpd -p ${hostModePort} -h /tmp; ${IDLE}`],
          portMappings: [{ containerPort: hostModePort, hostPort: hostModePort }],
        }),
      ],
    },
    {
      family: 'restarter',
      containerDefinitions: [
        def({
          name: 'app',
          memory: 16,
          // The first run lasts just over restartAttemptPeriod and exits 4; the restarted one idles.
          command: ['sh', '-c', `if [ -f /tmp/ran ]; then echo second-run; ${IDLE}; fi; touch /tmp/ran; sleep 62; exit 4`],
          restartPolicy: { enabled: true, restartAttemptPeriod: 60 },
        }),
      ],
    },
  ];
}

/** Runs a privileged container directly through the Engine API: what this engine allows, independent of Gantry. */
async function probePrivileged(): Promise<{ ok: true } | { ok: false; error: string }> {
  const created = await runtime.engine.json<{ Id: string }>('POST', '/containers/create', {
    body: { Image: image, Cmd: ['true'], Labels: testLabels(), HostConfig: { Privileged: true } },
  });
  try {
    const res = await runtime.engine.request<{ message?: string }>('POST', `/containers/${created.Id}/start`);
    return res.status < 300 ? { ok: true } : { ok: false, error: res.body?.message ?? `HTTP ${res.status}` };
  } finally {
    await runtime.removeContainer(created.Id);
  }
}

describe('containers on Docker through the server, the agent and the AWS clients', { skip }, () => {
  before(async () => {
    runtime = new DockerRuntime({ host: dockerHost! });
    await removeOrphanedTestContainers(runtime);
    image = await testImage(runtime);
    outDir = sharedDir('gantry-e2e-out-');
    syslog = createSocket('udp4');
    syslog.on('message', (m) => syslogLines.push(m.toString()));
    await new Promise<void>((r) => syslog.bind(0, '127.0.0.1', () => r()));
    staticPort = await freePort();
    privileged = await probePrivileged();
    hostModePort = await freePort();

    gantry = await startGantry({ dataDir: serverDataDir(JOIN_TOKEN) });
    ecs = sdkClient(gantry.url);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    agent = startAgent({
      endpoint: gantry.url,
      cluster: CLUSTER,
      joinToken: JOIN_TOKEN,
      stateDir: (stateDir = agentStateDir()),
      dockerHost: dockerHost!,
      extraArgs: ['--container-cleanup-after', `${CLEANUP_AFTER_S}s`, '--container-stop-timeout', '10s', '--log-format', 'json', '--log-level', 'info'],
    });
    instanceArn = await until(
      'the agent to join and connect',
      async () => {
        const arn = (await ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns?.[0];
        if (arn === undefined) return undefined;
        const ci = (await ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [arn] }))).containerInstances![0]!;
        return ci.agentConnected ? arn : undefined;
      },
      30_000,
      200,
    );

    // 'features' through the AWS CLI, the rest through the JS SDK; all launched together.
    const [features, ...rest] = definitions();
    const registered = await awsAsync(gantry.url, ['ecs', 'register-task-definition', '--cli-input-json', JSON.stringify(features)]);
    assert.equal(registered.status, 0, registered.stderr);
    for (const d of rest) await ecs.send(new RegisterTaskDefinitionCommand(d));
    const order = ['restarter', 'features', 'deps', 'quitter', 'oom', 'missing', 'hostnet'];
    await Promise.all(
      order.map(async (family) => {
        if (family === 'features') {
          const r = await awsAsync(gantry.url, ['ecs', 'run-task', '--cluster', CLUSTER, '--task-definition', 'features', '--count', '1']);
          assert.equal(r.status, 0, r.stderr);
          assert.deepEqual(r.json.failures, []);
          arns[family] = r.json.tasks[0].taskArn;
          return;
        }
        const r = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family }));
        assert.deepEqual(r.failures, [], `RunTask ${family}`);
        arns[family] = r.tasks![0]!.taskArn!;
      }),
    );
  });

  after(async () => {
    await agent?.stop();
    if (runtime && instanceArn) await removeInstanceContainers(runtime, instanceArn);
    await runtime?.close();
    await gantry?.stop();
    syslog?.close();
    for (const dir of [outDir, stateDir, gantry?.dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('an image that cannot be pulled: CannotPullContainerError and TaskFailedToStart', async () => {
    const t = await stopped('missing');
    assert.equal(t.stopCode, 'TaskFailedToStart');
    const c = container(t, 'ghost');
    assert.ok(c.reason?.startsWith('CannotPullContainerError: '), c.reason);
    assert.ok((c.reason ?? '').includes(MISSING_IMAGE.split('/')[0]!), `names the registry: ${c.reason}`);
    assert.match(t.stoppedReason ?? '', /^CannotPullContainerError: /);
    assert.equal(c.exitCode, undefined, 'a container that never ran has no exit code');
    assert.equal(c.runtimeId, undefined, 'nothing was created');
    assert.ok(t.pullStartedAt && t.pullStoppedAt, 'pull timestamps');
    assert.equal(t.startedAt, undefined);
  });

  test('killed for memory: OutOfMemoryError, exit code 137, EssentialContainerExited', async () => {
    const t = await stopped('oom');
    const c = container(t, 'hog');
    assert.equal(c.reason, 'OutOfMemoryError: Container killed due to memory usage');
    assert.equal(c.exitCode, 137);
    assert.equal(t.stopCode, 'EssentialContainerExited');
    assert.equal(t.stoppedReason, 'Essential container in task exited');
    const d = await dockerOf(t, 'hog');
    assert.equal(d.HostConfig.Memory, 8 * MiB);
    // Docker's own State.OOMKilled can lose the race with the exit (20.10); its event stream says it either way.
    const since = Math.floor((t.createdAt as Date).getTime() / 1000) - 1;
    const events = await runtime.engine.request<unknown>('GET', '/events', {
      query: { since, until: Math.ceil(Date.now() / 1000), filters: JSON.stringify({ container: [d.Id], event: ['oom'] }) },
    });
    // Newline-delimited JSON: one event parses as an object, several stay text.
    const text = typeof events.body === 'string' ? events.body : JSON.stringify(events.body);
    assert.match(text, /"Action":"oom"/, 'the engine saw the kernel kill it for memory');
  });

  test('network mode none; an essential exit stops the task and its other containers', async () => {
    const t = await stopped('quitter');
    assert.equal(t.stopCode, 'EssentialContainerExited');
    assert.equal(t.stoppedReason, 'Essential container in task exited');
    assert.equal(t.desiredStatus, 'STOPPED');
    assert.ok(t.startedAt && t.stoppingAt && t.executionStoppedAt && t.stoppedAt, 'timestamps of a task that ran');
    assert.equal(container(t, 'main').exitCode, 7);
    const side = container(t, 'side');
    assert.equal(side.lastStatus, 'STOPPED');
    assert.equal(side.exitCode, 0, 'the sidecar was stopped with SIGTERM');
    const main = await dockerOf(t, 'main');
    assert.equal(main.HostConfig.NetworkMode, 'none');
    assert.equal((await dockerOf(t, 'side')).HostConfig.NetworkMode, 'none');
    assert.equal(readFileSync(join(outDir, 'none.txt'), 'utf8').trim(), 'lo', 'only the loopback interface');
    assert.deepEqual(container(t, 'main').networkBindings ?? [], []);
  });

  test('bridge: a static and a dynamic host port in networkBindings, both serving HTTP (AWS CLI: run-task, wait tasks-running)', async () => {
    const wait = await awsAsync(gantry.url, ['ecs', 'wait', 'tasks-running', '--cluster', CLUSTER, '--tasks', arns['features']!]);
    assert.equal(wait.status, 0, `aws ecs wait tasks-running: ${wait.stderr}`);
    const t = await describeTask(arns['features']!);
    assert.equal(t.lastStatus, 'RUNNING');
    assert.ok(t.pullStartedAt && t.pullStoppedAt && t.startedAt);
    const web = container(t, 'web');
    const bindings = web.networkBindings ?? [];
    const fixed = bindings.find((b) => b.containerPort === 8080 && b.bindIP === '0.0.0.0');
    const dynamic = bindings.find((b) => b.containerPort === 8081 && b.bindIP === '0.0.0.0');
    assert.equal(fixed?.hostPort, staticPort, JSON.stringify(bindings));
    assert.equal(fixed?.protocol, 'tcp');
    assert.ok(dynamic?.hostPort !== undefined && dynamic.hostPort > 0 && dynamic.hostPort !== staticPort, JSON.stringify(bindings));
    assert.equal(await httpGet(staticPort, '/index.html'), 'hello-from-gantry host=gantry-web cwd=/var/www uid=0');
    assert.equal(await httpGet(dynamic.hostPort, '/dynamic.html'), 'dynamic-port-page');
    const d = await dockerOf(t, 'web');
    assert.equal(d.HostConfig.NetworkMode, 'bridge');
    for (const name of ['reader', 'priv', 'stubborn']) assert.deepEqual(container(t, name).networkBindings ?? [], []);
  });

  test('container health check: container and task HEALTHY', async () => {
    const t = await waitTask('features', 'HEALTHY', (x) => x.healthStatus === 'HEALTHY', 20_000);
    assert.equal(container(t, 'web').healthStatus, 'HEALTHY');
    assert.equal(container(t, 'reader').healthStatus, 'UNKNOWN', 'no health check: UNKNOWN');
    assert.equal((await dockerOf(t, 'web')).State.Health?.Status, 'healthy');
  });

  test('command, entryPoint, environment, workingDirectory, user, hostname, dockerLabels, cpu and memory limits, ulimits', async () => {
    const t = await describeTask(arns['features']!);
    const web = await dockerOf(t, 'web');
    assert.deepEqual(web.Config.Entrypoint, ['/bin/sh', '-c']);
    assert.equal(web.Config.Cmd?.length, 1);
    assert.match(web.Config.Cmd![0]!, /^echo "\$GREETING/);
    assert.ok(web.Config.Env.includes('GREETING=hello-from-gantry'), JSON.stringify(web.Config.Env));
    assert.equal(web.Config.WorkingDir, '/var/www');
    assert.equal(web.Config.Hostname, 'gantry-web');
    assert.equal(web.Config.Labels['e2e.role'], 'web');
    assert.equal(web.Config.Labels[LABELS.taskArn], t.taskArn);
    assert.equal(web.Config.Labels[LABELS.containerName], 'web');
    assert.equal(web.Config.Labels[LABELS.cluster], CLUSTER);
    assert.equal(web.Config.Labels[LABELS.family], 'features');
    assert.equal(web.Config.Labels[LABELS.instance], instanceArn);
    assert.equal(web.Config.Image, image);
    assert.equal(web.HostConfig.CpuShares, 256);
    assert.equal(web.HostConfig.Memory, 128 * MiB);
    assert.equal(web.HostConfig.MemoryReservation, 48 * MiB);
    assert.deepEqual(web.HostConfig.Ulimits, [{ Name: 'nofile', Soft: 1500, Hard: 3000 }]);

    const f = facts('web.txt');
    assert.equal(f.get('nofile'), '1500/3000');
    assert.equal(f.get('memlimit'), String(128 * MiB));
    assert.match(f.get('memsoft') ?? '', new RegExp(`^${48 * MiB}$`));
    assert.match(f.get('cpushares') ?? '', /^(256|weight 10)$/);

    const reader = await dockerOf(t, 'reader');
    assert.equal(reader.Config.User, '65534:65534');
    assert.equal(reader.HostConfig.Memory, 0, 'no hard limit');
    assert.equal(reader.HostConfig.MemoryReservation, 16 * MiB);
    assert.equal(facts('reader.txt').get('uid'), '65534:65534');
  });

  test('linuxParameters (init, capabilities, tmpfs, shared memory) and privileged', async () => {
    const t = await describeTask(arns['features']!);
    const web = await dockerOf(t, 'web');
    assert.equal(web.HostConfig.Init, true);
    assert.deepEqual(web.HostConfig.CapAdd, ['NET_ADMIN']);
    assert.deepEqual(web.HostConfig.CapDrop, ['CHOWN']);
    assert.equal(web.HostConfig.ShmSize, 40 * MiB);
    assert.match(web.HostConfig.Tmpfs?.['/scratch'] ?? '', /size=16m/);
    const f = facts('web.txt');
    assert.equal(f.get('pid1'), 'docker-init', 'the init process is PID 1');
    assert.ok(capBit(f.get('CapEff'), CAP.NET_ADMIN), `NET_ADMIN added: ${f.get('CapEff')}`);
    assert.ok(!capBit(f.get('CapEff'), CAP.CHOWN), `CHOWN dropped: ${f.get('CapEff')}`);
    assert.ok(!capBit(f.get('CapEff'), CAP.SYS_ADMIN), 'not privileged');
    assert.match(f.get('scratch') ?? '', /^tmpfs \/scratch tmpfs .*noexec.*size=16384k/);
    assert.match(f.get('shm') ?? '', /size=40960k/);

    const priv = await dockerOf(t, 'priv');
    assert.equal(priv.HostConfig.Privileged, true);
    assert.equal(web.HostConfig.Privileged, false);
    if (privileged.ok) {
      assert.equal(container(t, 'priv').lastStatus, 'RUNNING');
      const logs: string[] = [];
      for await (const l of runtime.logs(priv.Id, { follow: false })) logs.push(l.line);
      const cap = logs.map((l) => /CapEff:\s*([0-9a-f]+)/.exec(l)?.[1]).find((x) => x !== undefined);
      assert.ok(capBit(cap, CAP.SYS_ADMIN), `privileged: every capability (${cap})`);
    } else {
      // This engine cannot grant every capability (it lacks some itself): the agent says so, the ECS way, and
      // the task runs on without its non-essential container.
      const c = container(t, 'priv');
      assert.equal(c.lastStatus, 'STOPPED');
      assert.equal(c.exitCode, undefined);
      assert.ok(c.reason?.startsWith('CannotStartContainerError: '), c.reason);
      assert.ok(c.reason!.includes(privileged.error.slice(-40)), `the engine's own words: ${c.reason} vs ${privileged.error}`);
      assert.equal(t.lastStatus, 'RUNNING');
    }
  });

  test('readonlyRootFilesystem, host volumes, task-scoped Docker volumes, mountPoints and volumesFrom', async () => {
    const t = await describeTask(arns['features']!);
    const web = await dockerOf(t, 'web');
    const reader = await dockerOf(t, 'reader');
    const mount = (d: Inspected, dest: string) => d.Mounts.find((m) => m.Destination === dest);
    assert.equal(mount(web, '/out')?.Type, 'bind');
    assert.equal(mount(web, '/out')?.Source, outDir);
    assert.equal(mount(web, '/out')?.RW, true);
    const shared = mount(web, '/shared');
    assert.equal(shared?.Type, 'volume');
    assert.match(shared?.Name ?? '', /^ecs-features-1-shared-[0-9a-f]{32}$/);
    const vol = await runtime.engine.json<{ Labels: Record<string, string> }>('GET', `/volumes/${shared!.Name}`);
    assert.equal(vol.Labels['e2e.volume'], 'shared', 'dockerVolumeConfiguration labels');
    assert.equal(vol.Labels[LABELS.taskArn], t.taskArn);

    assert.equal(reader.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(reader.HostConfig.VolumesFrom, [`${web.Id}:ro`]);
    assert.equal(mount(reader, '/shared')?.Name, shared!.Name);
    assert.equal(mount(reader, '/shared')?.RW, false);
    assert.equal(mount(reader, '/report')?.RW, true);
    const r = facts('reader.txt');
    assert.equal(r.get('shared'), 'shared-data', 'what web wrote to the shared volume');
    assert.equal(r.get('rootfs'), 'readonly');
    assert.equal(r.get('volumesfrom'), 'readonly');
  });

  test('log drivers: json-file (readable through Docker), none, syslog (datagrams to the configured address)', async () => {
    const t = await describeTask(arns['features']!);
    const web = await dockerOf(t, 'web');
    assert.equal(web.HostConfig.LogConfig.Type, 'json-file');
    assert.equal(web.HostConfig.LogConfig.Config['max-size'], '1m');
    const lines: string[] = [];
    for await (const l of runtime.logs(web.Id, { follow: false })) lines.push(l.line);
    assert.ok(lines.includes('web-json-file-line'), JSON.stringify(lines));
    const reader = await dockerOf(t, 'reader');
    assert.equal(reader.HostConfig.LogConfig.Type, 'none');
    await assert.rejects(async () => {
      for await (const _ of runtime.logs(reader.Id, { follow: false })) assert.fail('a container logging to none has no logs to read');
    }, /does not support reading/);
    const stubborn = await dockerOf(t, 'stubborn');
    assert.equal(stubborn.HostConfig.LogConfig.Type, 'syslog');
    const line = await until('a syslog datagram', () => syslogLines.find((l) => l.includes('syslog-line-from-stubborn')), 10_000);
    assert.match(line, /gantry-stubborn/, 'with the configured tag');
  });

  test('dependsOn SUCCESS, COMPLETE, START and HEALTHY order the starts; non-essential exits leave the task running; startTimeout expires', async () => {
    const t = await waitTask('deps', 'RUNNING with its health settled', (x) => x.lastStatus === 'RUNNING' && x.healthStatus === 'UNHEALTHY');
    assert.equal(t.desiredStatus, 'RUNNING');
    const d = async (name: string) => dockerOf(t, name);
    const [first, failing, base, afterSuccess, afterComplete, afterStart, afterHealthy] = (await Promise.all(
      ['first', 'failing', 'base', 'after-success', 'after-complete', 'after-start', 'after-healthy'].map(d),
    )) as [Inspected, Inspected, Inspected, Inspected, Inspected, Inspected, Inspected];
    const started = (x: Inspected) => dockerMs(x.State.StartedAt);
    const finished = (x: Inspected) => dockerMs(x.State.FinishedAt);
    assert.ok(started(afterSuccess) >= finished(first), 'SUCCESS: started after its dependency exited');
    assert.ok(started(afterComplete) >= finished(failing), 'COMPLETE: started after its dependency exited');
    assert.ok(started(afterStart) >= started(base), 'START: started after its dependency started');
    const healthyAt = Math.min(...(base.State.Health?.Log ?? []).filter((l) => l.ExitCode === 0).map((l) => dockerMs(l.End)));
    assert.ok(Number.isFinite(healthyAt), 'base passed a health check');
    assert.ok(started(afterHealthy) >= healthyAt, `HEALTHY: started after its dependency's first passing check (${started(afterHealthy)} vs ${healthyAt})`);
    assert.ok(started(afterHealthy) >= started(base) + 2000, 'HEALTHY: not before the file the check looks for existed');

    // Non-essential containers exited, with their codes; the task runs on.
    assert.equal(container(t, 'first').lastStatus, 'STOPPED');
    assert.equal(container(t, 'first').exitCode, 0);
    assert.equal(container(t, 'failing').lastStatus, 'STOPPED');
    assert.equal(container(t, 'failing').exitCode, 3);
    for (const name of ['base', 'sick', 'after-success', 'after-complete', 'after-start', 'after-healthy']) {
      assert.equal(container(t, name).lastStatus, 'RUNNING', name);
    }
    // startTimeout: the dependency never became healthy, so the waiter gave up and never started.
    const waiter = container(t, 'waiter');
    assert.equal(waiter.lastStatus, 'STOPPED');
    assert.match(waiter.reason ?? '', /DependencyConditionNotMet.*timed out after 4 s.*'sick'/);
    assert.equal(waiter.exitCode, undefined);
    if (waiter.runtimeId) assert.equal((await inspect(runtime, waiter.runtimeId)).State.StartedAt.startsWith('0001-'), true, 'never started');

    // A failing health check: the container and (as it is essential) the task are UNHEALTHY.
    assert.equal(container(t, 'sick').healthStatus, 'UNHEALTHY');
    assert.equal(container(t, 'base').healthStatus, 'HEALTHY');
    assert.equal(t.healthStatus, 'UNHEALTHY');
  });

  test('host network mode: the container port is the host port', async () => {
    await waitUntilTasksRunning({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { cluster: CLUSTER, tasks: [arns['hostnet']!] });
    const t = await describeTask(arns['hostnet']!);
    const web = container(t, 'web');
    assert.deepEqual(
      (web.networkBindings ?? []).map((b) => [b.containerPort, b.hostPort, b.protocol]),
      [[hostModePort, hostModePort, 'tcp']],
    );
    assert.equal((await dockerOf(t, 'web')).HostConfig.NetworkMode, 'host');
    assert.equal(await httpGet(hostModePort, '/index.html'), 'host-mode-page');
  });

  test('StopTask --reason: reverse start order, SIGTERM (exit 143), SIGKILL after stopTimeout (exit 137), UserInitiated', async (ctx) => {
    const stopAt = Date.now();
    const r = await awsAsync(gantry.url, ['ecs', 'stop-task', '--cluster', CLUSTER, '--task', arns['features']!, '--reason', STOP_REASON]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.task.desiredStatus, 'STOPPED');
    const t = await stopped('features', 30_000);
    assert.equal(t.stopCode, 'UserInitiated');
    assert.equal(t.stoppedReason, STOP_REASON);
    assert.equal(container(t, 'web').exitCode, 143, 'SIGTERM, handled');
    assert.equal(container(t, 'reader').exitCode, 0);
    assert.equal(container(t, 'priv').exitCode, privileged.ok ? 0 : undefined);
    assert.equal(container(t, 'stubborn').exitCode, 137, 'SIGTERM ignored: SIGKILL');
    for (const c of t.containers ?? []) assert.equal(c.lastStatus, 'STOPPED', c.name);
    assert.ok(t.stoppingAt && t.executionStoppedAt && t.stoppedAt);

    const [web, reader, stubborn] = (await Promise.all(['web', 'reader', 'stubborn'].map((n) => dockerOf(t, n)))) as [Inspected, Inspected, Inspected];
    const finished = (x: Inspected) => dockerMs(x.State.FinishedAt);
    // reader depends on web, so it stops first; it takes a second, and web must only be signalled after it.
    assert.ok(finished(web) >= finished(reader), `web stopped after reader (${finished(web) - finished(reader)} ms)`);
    const killedAfter = finished(stubborn) - stopAt;
    ctx.diagnostic(`web stopped ${Math.round(finished(web) - finished(reader))} ms after reader; stubborn was killed ${Math.round(killedAfter)} ms after StopTask`);
    assert.ok(killedAfter >= 1900 && killedAfter < 9000, `SIGKILL after its own stopTimeout of 2 s, not the agent's 10 s: ${killedAfter} ms`);
  });

  test("pull behaviour 'default': the pull fails, the cached image is used, the task runs", async () => {
    const warnings = agent
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; image?: string; level: string })
      .filter((l) => l.msg === 'image pull failed; using the cached image' && l.image === image);
    assert.ok(warnings.length >= 1, `the agent tried to pull ${image} and fell back to its cached copy:\n${agent.output().slice(-3000)}`);
    const t = await describeTask(arns['hostnet']!);
    assert.equal(t.lastStatus, 'RUNNING');
    assert.equal(container(t, 'web').image, image);
  });

  test('containers of stopped tasks are removed after the retention (--container-cleanup-after)', async () => {
    const gone = async (family: string) => {
      const left = (await instanceContainers(runtime, instanceArn)).filter((c) => c.Labels[LABELS.taskArn] === arns[family]);
      return left.length === 0 ? Date.now() : undefined;
    };
    // 'features' stopped just before this test, so its removal is watched from the start: not before the
    // retention has passed, and soon after. The others stopped long ago and must simply be gone by now.
    for (const family of ['features', 'quitter', 'oom']) {
      const t = await describeTask(arns[family]!);
      const stoppedMs = (t.executionStoppedAt as Date).getTime();
      const removedAt = await until(`the containers of '${family}' to be removed`, () => gone(family), Math.max(0, stoppedMs + (CLEANUP_AFTER_S + 15) * 1000 - Date.now()), 250);
      if (family === 'features') {
        assert.ok(removedAt >= stoppedMs + (CLEANUP_AFTER_S - 1) * 1000, `kept for the retention: removed ${removedAt - stoppedMs} ms after the stop`);
      }
    }
    const vols = await runtime.engine.json<{ Volumes: { Name: string }[] | null }>('GET', '/volumes', {
      query: { filters: JSON.stringify({ label: [`${LABELS.taskArn}=${arns['features']}`] }) },
    });
    assert.deepEqual(vols.Volumes ?? [], [], 'the task-scoped volume went with them');
    // The server keeps the stopped tasks (ECS shows them for an hour).
    assert.equal((await describeTask(arns['features']!)).lastStatus, 'STOPPED');
  });

  test('restartPolicy: an exit after restartAttemptPeriod restarts the container in place', async () => {
    const t0 = await waitTask('restarter', 'RUNNING', (x) => x.lastStatus === 'RUNNING');
    const id = container(t0, 'app').runtimeId!;
    const firstStart = (await inspect(runtime, id)).State.StartedAt;
    const restarted = await until(
      'the container to be started again',
      async () => {
        const d = await inspect(runtime, id);
        return d.State.StartedAt !== firstStart && d.State.Status === 'running' ? d : undefined;
      },
      110_000,
      500,
    );
    assert.ok(dockerMs(restarted.State.StartedAt) - dockerMs(firstStart) >= 60_000, 'after the first run ended');
    const t = await describeTask(arns['restarter']!);
    assert.equal(t.lastStatus, 'RUNNING', 'the task was not replaced or stopped');
    assert.equal(t.desiredStatus, 'RUNNING');
    assert.equal(container(t, 'app').runtimeId, id, 'the same container');
    assert.equal(container(t, 'app').lastStatus, 'RUNNING');
    const mine = (await instanceContainers(runtime, instanceArn)).filter((c) => c.Labels[LABELS.taskArn] === t.taskArn);
    assert.deepEqual(mine.map((c) => c.Id), [id], 'no second container');
    const logs: string[] = [];
    for await (const l of runtime.logs(id, { follow: false })) logs.push(l.line);
    assert.ok(logs.includes('second-run'), JSON.stringify(logs));
  });
});
