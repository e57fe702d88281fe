/**
 * The registry with real clients (issue #6): the AWS CLI creates a repository and prints the login password,
 * the docker CLI logs in, pushes and pulls through the test Docker engine, an immutable tag refuses a second
 * push through `docker push`, a task definition naming the pushed image runs on a real agent (which pulls it with
 * the credentials the server sends — the engine has none), and skopeo copies images in and out, including a
 * multi-platform index.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateClusterCommand, DescribeTasksCommand, ListContainerInstancesCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { dockerHostOrSkip, removeOrphanedTestContainers, TEST_PID_LABEL } from '../testing/docker.js';
import { ACCESS_KEY_ID, aws, REGION, SECRET_ACCESS_KEY, startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { writeOciLayout } from '../testing/oci-layout.js';
import { agentStateDir, removeInstanceContainers, serverDataDir, startAgent, testImage, testLabels, until } from './docker-e2e.js';
import type { AgentProcess } from './docker-e2e.js';
import { sdkClient } from './support.js';

const { host: dockerHost, skip: noDocker } = await dockerHostOrSkip();
const noSkopeo = spawnSync('/usr/bin/skopeo', ['--version']).status === 0 ? undefined : 'skopeo is not installed (apt-get install skopeo)';

const JOIN_TOKEN = 'GJTKE2EREGISTRYJOIN1:e2e-registry-join-secret-000000000000000000';
const CLUSTER = 'registry';

let gantry: GantryProcess;
let registry: string;
let ecr: ECRClient;
let dataDir: string;
const work = mkdtempSync(join(tmpdir(), 'gantry-e2e-registry-'));
const dockerConfig = join(work, 'docker-config');

function docker(args: readonly string[], input?: string): { status: number; out: string } {
  const r = spawnSync('docker', args, {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work, DOCKER_HOST: dockerHost!, DOCKER_CONFIG: dockerConfig },
    encoding: 'utf8',
    timeout: 120_000,
    ...(input !== undefined ? { input } : {}),
  });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function skopeo(args: readonly string[]): { status: number; out: string } {
  const r = spawnSync('/usr/bin/skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', timeout: 120_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work } });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function loginPassword(): string {
  const r = aws(gantry.url, ['ecr', 'get-login-password']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** A new image in the test engine with content no other image has (so a pull must really download it). */
function uniqueImage(ref: string, marker: string): void {
  const name = `gantry-e2e-registry-${process.pid}-${Date.now()}`;
  const base = BASE_IMAGE;
  let r = docker(['run', '--name', name, '--label', `${TEST_PID_LABEL}=${process.pid}`, base, 'sh', '-c', `echo ${marker} > /marker`]);
  assert.equal(r.status, 0, r.out);
  r = docker(['commit', '--change', 'CMD ["cat", "/marker"]', name, ref]);
  assert.equal(r.status, 0, r.out);
  docker(['rm', name]);
}
let BASE_IMAGE = '';

before(async () => {
  if (noDocker && noSkopeo) return;
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  dataDir = serverDataDir(JOIN_TOKEN);
  gantry = await startGantry({ dataDir });
  registry = new URL(gantry.url).host;
  ecr = new ECRClient({ endpoint: gantry.url, region: REGION, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } });
});

after(async () => {
  ecr?.destroy();
  await gantry?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('docker login, push, pull, and a task on the agent', { skip: noDocker }, () => {
  let runtime: DockerRuntime;
  let agent: AgentProcess | undefined;
  let stateDir: string;
  let ecs: ECSClient;
  let instanceArn: string | undefined;
  const refs: string[] = [];

  before(async () => {
    runtime = new DockerRuntime({ host: dockerHost! });
    await removeOrphanedTestContainers(runtime);
    BASE_IMAGE = await testImage(runtime);
  });

  after(async () => {
    await agent?.stop();
    if (instanceArn) await removeInstanceContainers(runtime, instanceArn);
    for (const ref of refs) docker(['rmi', '-f', ref]);
    await runtime?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  test('aws ecr create-repository, get-login-password | docker login, docker push, docker pull of a removed image', () => {
    const created = aws(gantry.url, ['ecr', 'create-repository', '--repository-name', 'e2e/app']);
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.json.repository.repositoryUri, `${registry}/e2e/app`);
    const unauthenticated = docker(['pull', `${registry}/e2e/app:1`]);
    assert.notEqual(unauthenticated.status, 0, 'no anonymous pulls');
    const login = docker(['login', '--username', 'AWS', '--password-stdin', registry], loginPassword());
    assert.equal(login.status, 0, login.out);
    assert.match(login.out, /Login Succeeded/);

    const ref = `${registry}/e2e/app:1`;
    refs.push(ref);
    uniqueImage(ref, 'hello-from-the-registry');
    const push = docker(['push', ref]);
    assert.equal(push.status, 0, push.out);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.out)?.[1];
    assert.ok(digest, push.out);
    assert.equal(docker(['rmi', ref]).status, 0);
    const pull = docker(['pull', ref]);
    assert.equal(pull.status, 0, pull.out);
    assert.match(pull.out, /Downloaded newer image|Pull complete/);
    const run = docker(['run', '--rm', '--label', `${TEST_PID_LABEL}=${process.pid}`, ref]);
    assert.equal(run.out.trim(), 'hello-from-the-registry');

    const described = aws(gantry.url, ['ecr', 'describe-images', '--repository-name', 'e2e/app']);
    assert.equal(described.json.imageDetails[0].imageDigest, digest);
    assert.deepEqual(described.json.imageDetails[0].imageTags, ['1']);
  });

  test('an immutable repository refuses a second push of a tag through docker push', () => {
    assert.equal(aws(gantry.url, ['ecr', 'put-image-tag-mutability', '--repository-name', 'e2e/app', '--image-tag-mutability', 'IMMUTABLE']).status, 0);
    const ref = `${registry}/e2e/app:1`;
    uniqueImage(ref, 'a-different-image');
    const push = docker(['push', ref]);
    assert.notEqual(push.status, 0, push.out);
    assert.match(push.out, /tag invalid|already exists/i);
    const images = aws(gantry.url, ['ecr', 'list-images', '--repository-name', 'e2e/app']);
    assert.equal(images.json.imageIds.length, 1, 'the refused manifest is not stored');
    assert.equal(aws(gantry.url, ['ecr', 'put-image-tag-mutability', '--repository-name', 'e2e/app', '--image-tag-mutability', 'MUTABLE']).status, 0);
  });

  test('a task definition naming a Gantry image runs on the agent, which pulls it with the credentials the server sends', async () => {
    const ref = `${registry}/e2e/app:task`;
    refs.push(ref);
    uniqueImage(ref, 'ran-from-gantry-registry');
    assert.equal(docker(['push', ref]).status, 0);
    assert.equal(docker(['rmi', ref]).status, 0, 'the engine must pull it');
    ecs = sdkClient(gantry.url);
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    stateDir = agentStateDir();
    agent = startAgent({ endpoint: gantry.url, cluster: CLUSTER, joinToken: JOIN_TOKEN, stateDir, dockerHost: dockerHost!, extraArgs: ['--log-level', 'warn'] });
    instanceArn = await until('the agent to register', async () => (await ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns?.[0], 30_000);
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'from-registry',
        containerDefinitions: [{ name: 'app', image: ref, memory: 32, command: ['sh', '-c', 'test "$(cat /marker)" = ran-from-gantry-registry'], dockerLabels: testLabels() }],
      }),
    );
    const run = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'from-registry' }));
    const taskArn = run.tasks?.[0]?.taskArn;
    assert.ok(taskArn, JSON.stringify(run.failures));
    const task = await until(
      'the task to stop',
      async () => {
        const t = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }))).tasks?.[0];
        return t?.lastStatus === 'STOPPED' ? t : undefined;
      },
      90_000,
      250,
    );
    assert.equal(task.containers?.[0]?.exitCode, 0, `${task.stoppedReason} ${task.containers?.[0]?.reason}\n${agent.output()}`);
    assert.equal(task.stopCode, 'EssentialContainerExited');
    assert.ok(task.pullStartedAt !== undefined && task.pullStoppedAt !== undefined);
  });
});

describe('skopeo copies images in and out, including a multi-platform index', { skip: noSkopeo }, () => {
  test('an OCI index of two platforms goes in and comes out identical; the ECR API sees the index and its images', async () => {
    const created = aws(gantry.url, ['ecr', 'create-repository', '--repository-name', 'e2e/multi']);
    assert.equal(created.status, 0, created.stderr);
    const layout = join(work, 'multi-in');
    const image = writeOciLayout(layout, {
      tag: 'v1',
      layers: [300_000, 200_000],
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    const creds = `AWS:${loginPassword()}`;
    const push = skopeo(['copy', '--all', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${layout}:v1`, `docker://${registry}/e2e/multi:v1`]);
    assert.equal(push.status, 0, push.out);
    const raw = skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds, `docker://${registry}/e2e/multi:v1`]);
    assert.equal(raw.status, 0, raw.out);
    assert.equal(`sha256:${createHash('sha256').update(raw.out).digest('hex')}`, image.digest, 'the index is served byte for byte');
    const arm = skopeo(['inspect', '--tls-verify=false', '--creds', creds, '--override-arch', 'arm64', `docker://${registry}/e2e/multi:v1`]);
    assert.equal(JSON.parse(arm.out).Architecture, 'arm64');

    const out = join(work, 'multi-out');
    const pull = skopeo(['copy', '--all', '--src-tls-verify=false', '--src-creds', creds, `docker://${registry}/e2e/multi:v1`, `oci:${out}:v1`]);
    assert.equal(pull.status, 0, pull.out);
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, image.digest);
    for (const blob of image.blobs) {
      const bytes = readFileSync(join(out, 'blobs', 'sha256', blob.slice(7)));
      assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, blob);
    }

    const described = await ecr.send(new DescribeImagesCommand({ repositoryName: 'e2e/multi' }));
    const byType = new Map<string, number>();
    for (const d of described.imageDetails ?? []) byType.set(d.imageManifestMediaType!, (byType.get(d.imageManifestMediaType!) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(byType), { 'application/vnd.oci.image.index.v1+json': 1, 'application/vnd.oci.image.manifest.v1+json': 2 });
    const top = described.imageDetails!.find((d) => d.imageDigest === image.digest)!;
    assert.deepEqual(top.imageTags, ['v1']);
  });

  test('skopeo against a wrong password is refused', () => {
    const r = skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', 'AWS:not-a-token', `docker://${registry}/e2e/multi:v1`]);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /unauthorized|authentication required|401/i);
  });
});
