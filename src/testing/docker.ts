/**
 * Docker for tests, offline. One engine serves every test process on the machine: the engine already
 * configured (DOCKER_HOST or /var/run/docker.sock) if there is one, else one Gantry starts with its state
 * in /tmp and leaves running for the next run (starting dockerd costs seconds; test processes run in
 * parallel and must not stop it under each other). It runs on its own bridge so it can coexist with a
 * developer's engine.
 *
 * Images can't be pulled here, so the test image is built: a root filesystem holding Debian's static
 * busybox and a symlink per applet (sh, httpd, sleep, …), imported through the Engine API.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { ensureDockerEngine } from '../agent/runtime/docker/engine.js';
import type { DockerEngine } from '../agent/runtime/docker/engine.js';
import { busyboxRootfs } from '../agent/runtime/docker/busybox-image.js';

export { busyboxRootfs };

export const TEST_DOCKER_DIR = '/tmp/gantry-test-docker';
/**
 * Named on a loopback registry where nothing listens, so that when a test's agent tries to pull it (the
 * `default` pull behaviour always tries), the attempt fails at once on 127.0.0.1 and never leaves the machine.
 */
export const BUSYBOX_IMAGE = '127.0.0.1:5/gantry-test/busybox:1';
/** Every container a test creates carries this label with the test process's pid, for cleanup. */
export const TEST_PID_LABEL = 'com.gantry.test-pid';

let engine: Promise<DockerEngine> | undefined;

/** The engine for this test process (started once). Rejects with the reason when none can be had. */
export function dockerForTests(): Promise<DockerEngine> {
  engine ??= ensureDockerEngine({
    dataDir: TEST_DOCKER_DIR,
    ...(process.env['DOCKER_HOST'] ? { dockerHost: process.env['DOCKER_HOST'] } : {}),
    isolate: { bridge: 'gantry-test0', cidr: '10.213.213.1/24' },
  });
  return engine;
}

/** Builds and imports the busybox test image unless the engine has it; returns its reference. */
export async function busyboxImage(runtime: DockerRuntime): Promise<string> {
  if (await runtime.hasImage(BUSYBOX_IMAGE)) return BUSYBOX_IMAGE;
  installBusybox();
  await runtime.importImage(busyboxRootfs(), BUSYBOX_IMAGE);
  return BUSYBOX_IMAGE;
}

/**
 * For test files that need Docker: the engine's DOCKER_HOST, or why there is none, to skip with (a clear
 * skip rather than a failure on a machine where no engine can be had).
 */
export async function dockerHostOrSkip(): Promise<{ readonly host: string | undefined; readonly skip: string | undefined }> {
  try {
    return { host: (await dockerForTests()).host, skip: undefined };
  } catch (e) {
    return { host: undefined, skip: `no Docker engine is available or could be started: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** Removes containers left by test processes that are gone (a crashed or killed run). */
export async function removeOrphanedTestContainers(runtime: DockerRuntime): Promise<void> {
  const containers = await runtime.engine.json<{ Id: string; Labels: Record<string, string> }[]>('GET', '/containers/json', {
    query: { all: true, filters: JSON.stringify({ label: [TEST_PID_LABEL] }) },
  });
  for (const c of containers) {
    const pid = Number(c.Labels[TEST_PID_LABEL]);
    if (pid !== process.pid && !alive(pid)) await runtime.removeContainer(c.Id);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Tests may run before setup installed busybox-static (e.g. a single test file run by hand). */
function installBusybox(): void {
  if (existsSync('/bin/busybox')) return;
  const r = spawnSync('apt-get', ['install', '-y', 'busybox-static'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0 || !existsSync('/bin/busybox')) throw new Error("/bin/busybox is missing; install Debian's busybox-static");
}
