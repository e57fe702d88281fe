/**
 * `gantry logs` end to end: `gantry server` in a child process, an agent in this process on the real Docker
 * engine, a busybox container echoing to stdout and stderr, and the `gantry logs` command reading it back
 * through the server. Skips (saying why) only when no Docker engine can be found or started.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateClusterCommand, DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { Agent } from '../agent/agent.js';
import { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { LABELS } from '../agent/runtime/runtime.js';
import { TimerWheel } from '../agent/timers.js';
import { busyboxImage, dockerHostOrSkip, removeOrphanedTestContainers, TEST_PID_LABEL } from '../testing/docker.js';
import { clientEnv, REGION, ROOT, startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { cryptoRng } from '../util/clock.js';
import { silentLogger } from '../util/log.js';
import { sdkClient } from './support.js';

const { host, skip } = await dockerHostOrSkip();

const JOIN = { accessKeyId: 'GJTKE2ELOGSJOIN00001', secretAccessKey: 'e2e-logs-join-secret-0000000000000000000' };
const CLUSTER = 'logs';
const labels = { [TEST_PID_LABEL]: String(process.pid) };

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('gantry logs on Docker', { skip }, () => {
  let gantry: GantryProcess;
  let ecs: ECSClient;
  let runtime: DockerRuntime;
  let agent: Agent;
  const timers = new TimerWheel({ resolutionMs: 10 });
  const stateDir = mkdtempSync(join(tmpdir(), 'gantry-logs-e2e-agent-'));

  /** Runs `gantry logs …` as a user would; `onStdout` may act on the output so far (e.g. send Ctrl-C). */
  const logs = (args: readonly string[], onStdout?: (out: string, child: ReturnType<typeof spawn>) => void): Promise<CliRun> =>
    new Promise((resolve, reject) => {
      // Asynchronous on purpose: the agent answering the request runs in this process.
      const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'logs', ...args, '--endpoint', gantry.url], { env: clientEnv() });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        onStdout?.(stdout, child);
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`gantry logs ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
      }, 60_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  const runTask = async (family: string): Promise<string> => {
    const out = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family }));
    assert.deepEqual(out.failures, []);
    return out.tasks![0]!.taskArn!;
  };

  const statusOf = async (arn: string): Promise<string | undefined> =>
    (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }))).tasks![0]!.lastStatus;

  const until = async (what: string, fn: () => Promise<boolean>): Promise<void> => {
    const end = Date.now() + 60_000;
    while (!(await fn())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    runtime = new DockerRuntime({ host: host! });
    await removeOrphanedTestContainers(runtime);
    const image = await busyboxImage(runtime);
    const dataDir = mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
    writeFileSync(join(dataDir, 'join-token'), `${JOIN.accessKeyId}:${JOIN.secretAccessKey}\n`, { mode: 0o600 });
    gantry = await startGantry({ dataDir });
    ecs = sdkClient(gantry.url);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const container = (name: string, script: string) => ({ name, image, memory: 32, command: ['sh', '-c', script], dockerLabels: labels });
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'echo',
        containerDefinitions: [container('echo', 'for i in 1 2 3; do echo out $i; echo err $i >&2; done; sleep 1; echo err last >&2; sleep 0.5; echo last')],
      }),
    );
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'ticker',
        containerDefinitions: [container('tick', 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'), container('quiet', 'sleep 600')],
      }),
    );
    agent = new Agent({
      options: {
        endpoint: gantry.url,
        cluster: CLUSTER,
        region: REGION,
        registrationKey: JOIN,
        attributes: [],
        reservedMemoryMiB: 0,
        reservedPorts: [],
        reservedPortsUdp: [],
        stateDir,
        durable: true,
        lockStateDir: true,
        containerStopTimeoutSec: 2,
        containerStartTimeoutSec: 60,
        containerCleanupAfterMs: 3_600_000,
        imagePullBehavior: 'prefer-cached',
        agentVersion: '0.1.0-e2e',
        heartbeatMs: 1000,
      },
      runtime,
      timers,
      rng: cryptoRng,
      logger: silentLogger,
    });
    await agent.start();
  });

  after(async () => {
    const instance = agent?.containerInstanceArn;
    await agent?.stop();
    timers.close();
    if (runtime) {
      if (instance !== undefined) for (const c of await runtime.listContainers({ [LABELS.instance]: instance })) await runtime.removeContainer(c.id);
      await runtime.close();
    }
    await gantry?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('--follow prints stdout and stderr lines as they come and exits when the container stops', async () => {
    const arn = await runTask('echo');
    await until('the task to run', async () => (await statusOf(arn)) !== 'PENDING');
    const r = await logs([arn.split('/').at(-1)!, '--cluster', CLUSTER, '--follow']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'out 1\nout 2\nout 3\nlast\n');
    assert.equal(r.stderr, 'err 1\nerr 2\nerr 3\nerr last\n');

    await until('the task to stop', async () => (await statusOf(arn)) === 'STOPPED');
    const tail = await logs([arn, '--cluster', CLUSTER, '--tail', '2']);
    assert.equal(tail.code, 0, tail.stderr);
    // The last two lines of the log, whichever stream each was written to.
    assert.equal(tail.stdout, 'last\n');
    assert.equal(tail.stderr, 'err last\n');

    const json = await logs([arn, '--cluster', CLUSTER, '--json', '--tail', '1']);
    assert.equal(json.code, 0, json.stderr);
    const record = JSON.parse(json.stdout.trim()) as { stream: string; time: string; line: string };
    assert.equal(record.stream, 'stdout');
    assert.equal(record.line, 'last');
    assert.ok(!Number.isNaN(Date.parse(record.time)));
  });

  test('Ctrl-C ends a follow at once and the agent stops reading', async () => {
    const arn = await runTask('ticker');
    await until('the task to run', async () => (await statusOf(arn)) === 'RUNNING');
    let interrupted = false;
    const r = await logs([arn, '--cluster', CLUSTER, '--container', 'tick', '-f'], (out, child) => {
      if (!interrupted && out.includes('tick 2\n')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    assert.equal(r.code, 130);
    assert.match(r.stdout, /^tick 1\ntick 2\n/);
    await until('the agent to stop reading', async () => agent.openLogStreams === 0);
  });

  test('clear errors: an unknown task, an unknown container (listing the real ones), a task with several containers', async () => {
    const missing = await logs(['0123456789abcdef0123456789abcdef', '--cluster', CLUSTER]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Task 0123456789abcdef0123456789abcdef was not found in cluster logs/);

    const arn = await runTask('ticker');
    const unknown = await logs([arn, '--cluster', CLUSTER, '--container', 'db']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no container named 'db'; its containers are: tick, quiet/);
    const ambiguous = await logs([arn, '--cluster', CLUSTER]);
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.stderr, /name one with container=NAME/);
  });
});
