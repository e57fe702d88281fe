/**
 * A service on real Docker: `aws ecs create-service` with a web container (busybox httpd on a dynamic host port,
 * a container health check), `aws ecs wait services-stable`, then `update-service --task-definition web:2` while a
 * client keeps requesting the page from the service's healthy tasks (following their networkBindings). No request
 * may fail during the roll, and the page must change from v1 to v2. The container keeps serving for a moment after
 * SIGTERM, as a web server behind a load balancer drains connections.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { get } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { EcsClient, sleep } from '../bench/support.js';
import { dockerHostOrSkip, removeOrphanedTestContainers } from '../testing/docker.js';
import { startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { agentStateDir, awsAsync, removeInstanceContainers, serverDataDir, startAgent, testImage, until } from './docker-e2e.js';
import type { AgentProcess } from './docker-e2e.js';

const { host: dockerHost, skip } = await dockerHostOrSkip();
const JOIN_TOKEN = 'GJTKE2ESERVICESDOCK1:e2e-services-docker-join-secret-00000000';
const CLUSTER = 'web';

function httpGet(port: number): Promise<{ ok: boolean; body: string }> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/index.html', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ ok: res.statusCode === 200, body: body.trim() }));
    });
    req.on('error', (e) => resolve({ ok: false, body: e.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('a service on real Docker rolls to a new revision without a failed request', { skip }, () => {
  let runtime: DockerRuntime;
  let gantry: GantryProcess;
  let agent: AgentProcess;
  let ecs: EcsClient;
  let stateDir: string;
  let instanceArn: string | undefined;

  before(async () => {
    runtime = new DockerRuntime({ host: dockerHost! });
    await removeOrphanedTestContainers(runtime);
    const image = await testImage(runtime);
    gantry = await startGantry({ dataDir: serverDataDir(JOIN_TOKEN) });
    ecs = new EcsClient(gantry.url);
    await ecs.call('CreateCluster', { clusterName: CLUSTER });
    agent = startAgent({ endpoint: gantry.url, cluster: CLUSTER, joinToken: JOIN_TOKEN, stateDir: (stateDir = agentStateDir()), dockerHost: dockerHost!, extraArgs: ['--container-stop-timeout', '10s'] });
    instanceArn = await until('the agent to join and connect', async () => {
      const arn = (await ecs.call('ListContainerInstances', { cluster: CLUSTER })).containerInstanceArns[0] as string | undefined;
      if (arn === undefined) return undefined;
      return (await ecs.call('DescribeContainerInstances', { cluster: CLUSTER, containerInstances: [arn] })).containerInstances[0].agentConnected ? arn : undefined;
    });
    for (const version of ['v1', 'v2']) {
      await ecs.call('RegisterTaskDefinition', {
        family: 'web',
        containerDefinitions: [
          {
            name: 'web',
            image,
            cpu: 64,
            memory: 64,
            portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }],
            // Serve, and on SIGTERM keep serving for 3 s before exiting (connection draining).
            command: ['sh', '-c', `mkdir -p /www && echo ${version} > /www/index.html && httpd -f -p 8080 -h /www & pid=$!; trap 'sleep 3; kill $pid; exit 0' TERM; wait`],
            healthCheck: { command: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/index.html || exit 1'], interval: 5, timeout: 2, retries: 3, startPeriod: 1 },
          },
        ],
      });
    }
  });

  after(async () => {
    await agent?.stop();
    if (runtime && instanceArn) await removeInstanceContainers(runtime, instanceArn);
    await runtime?.close();
    ecs?.close();
    await gantry?.stop();
    for (const dir of [stateDir, gantry?.dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The host ports of the service's tasks that are RUNNING, HEALTHY and meant to keep running. */
  async function servingPorts(): Promise<number[]> {
    const arns = (await ecs.call('ListTasks', { cluster: CLUSTER, serviceName: 'web' })).taskArns as string[];
    if (arns.length === 0) return [];
    const { tasks } = await ecs.call('DescribeTasks', { cluster: CLUSTER, tasks: arns });
    return (tasks as { lastStatus: string; desiredStatus: string; healthStatus: string; containers: { networkBindings?: { hostPort: number; bindIP: string }[] }[] }[])
      .filter((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING' && t.healthStatus === 'HEALTHY')
      .flatMap((t) => (t.containers[0]?.networkBindings ?? []).filter((b) => b.bindIP === '0.0.0.0').map((b) => b.hostPort));
  }

  test('create-service, wait services-stable, update-service to :2 with every request answered', async () => {
    const created = await awsAsync(gantry.url, ['ecs', 'create-service', '--cluster', CLUSTER, '--service-name', 'web', '--task-definition', 'web:1', '--desired-count', '2']);
    assert.equal(created.status, 0, created.stderr);
    const stable = await awsAsync(gantry.url, ['ecs', 'wait', 'services-stable', '--cluster', CLUSTER, '--services', 'web']);
    assert.equal(stable.status, 0, stable.stderr);
    await until('both tasks to serve, healthy', async () => ((await servingPorts()).length === 2 ? true : undefined), 60_000, 250).catch(async (e: unknown) => {
      const arns = (await ecs.call('ListTasks', { cluster: CLUSTER, serviceName: 'web' })).taskArns as string[];
      const { tasks } = await ecs.call('DescribeTasks', { cluster: CLUSTER, tasks: arns });
      throw new Error(`${(e as Error).message}: ${JSON.stringify(tasks.map((t: { lastStatus: string; healthStatus: string; containers: unknown[] }) => [t.lastStatus, t.healthStatus, t.containers]))}`);
    });

    // A client that keeps asking while the roll runs.
    let stop = false;
    const seen = new Set<string>();
    const failures: string[] = [];
    let requests = 0;
    const client = (async () => {
      for (let n = 0; !stop && n < 5000; n++) {
        const ports = await servingPorts();
        if (ports.length === 0) {
          failures.push('no healthy task to ask');
        } else {
          const r = await httpGet(ports[n % ports.length]!);
          requests++;
          if (r.ok) seen.add(r.body);
          else failures.push(r.body);
        }
        await sleep(50);
      }
    })();

    const updated = await awsAsync(gantry.url, ['ecs', 'update-service', '--cluster', CLUSTER, '--service', 'web', '--task-definition', 'web:2']);
    assert.equal(updated.status, 0, updated.stderr);
    await until(
      'the roll to finish',
      async () => {
        const s = (await ecs.call('DescribeServices', { cluster: CLUSTER, services: ['web'] })).services[0];
        return s.deployments.length === 1 && s.runningCount === 2 && s.taskDefinition.endsWith('web:2') ? true : undefined;
      },
      120_000,
      250,
    );
    const again = await awsAsync(gantry.url, ['ecs', 'wait', 'services-stable', '--cluster', CLUSTER, '--services', 'web']);
    assert.equal(again.status, 0, again.stderr);
    await sleep(500);
    stop = true;
    await client;
    assert.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
    assert.ok(requests > 10, `only ${requests} requests were made`);
    assert.deepEqual([...seen].sort(), ['v1', 'v2']);
  });
});
