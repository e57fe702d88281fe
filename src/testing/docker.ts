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
import { existsSync, readFileSync } from 'node:fs';
import type { DockerRuntime } from '../agent/runtime/docker/docker-runtime.js';
import { ensureDockerEngine } from '../agent/runtime/docker/engine.js';
import type { DockerEngine } from '../agent/runtime/docker/engine.js';

export const TEST_DOCKER_DIR = '/tmp/gantry-test-docker';
export const BUSYBOX_IMAGE = 'gantry-test/busybox:1';
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
  await runtime.importImage(busyboxRootfs(), BUSYBOX_IMAGE);
  return BUSYBOX_IMAGE;
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

const BUSYBOX = '/bin/busybox';

/** The test image's root filesystem as a tar. */
export function busyboxRootfs(): Buffer {
  if (!existsSync(BUSYBOX)) {
    const r = spawnSync('apt-get', ['install', '-y', 'busybox-static'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0 || !existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing; install Debian's busybox-static`);
  }
  const applets = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
  const tar = new TarWriter();
  for (const dir of ['bin/', 'etc/', 'root/', 'var/', 'var/www/']) tar.dir(dir, 0o755);
  tar.dir('tmp/', 0o1777);
  tar.file('bin/busybox', readFileSync(BUSYBOX), 0o755);
  for (const a of applets) tar.symlink(`bin/${a}`, 'busybox');
  tar.file('etc/passwd', Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'), 0o644);
  tar.file('etc/group', Buffer.from('root:x:0:\nnogroup:x:65534:\n'), 0o644);
  return tar.finish();
}

/** Just enough of POSIX ustar to write a small root filesystem. */
class TarWriter {
  private readonly parts: Buffer[] = [];

  dir(name: string, mode: number): void {
    this.entry(name, mode, '5', 0);
  }

  file(name: string, data: Buffer, mode: number): void {
    this.entry(name, mode, '0', data.length);
    this.parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }

  symlink(name: string, target: string): void {
    this.entry(name, 0o777, '2', 0, target);
  }

  finish(): Buffer {
    return Buffer.concat([...this.parts, Buffer.alloc(1024)]);
  }

  private entry(name: string, mode: number, type: string, size: number, link = ''): void {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write(octal(mode, 7), 100);
    h.write(octal(0, 7), 108);
    h.write(octal(0, 7), 116);
    h.write(octal(size, 11), 124);
    h.write(octal(Math.floor(Date.now() / 1000), 11), 136);
    h.write('        ', 148);
    h.write(type, 156);
    h.write(link, 157, 100, 'utf8');
    h.write('ustar\u000000', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${octal(sum, 6)}\u0000 `, 148);
    this.parts.push(h);
  }
}

const octal = (n: number, width: number): string => n.toString(8).padStart(width, '0');
