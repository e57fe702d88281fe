/**
 * A small image built offline from Debian's static busybox: a root filesystem with /bin/busybox and a symlink
 * per applet (sh, httpd, sleep, wget, …), imported through the Engine API. `gantry up` imports it as
 * `gantry/busybox:latest` so the quick start has an image that serves HTTP without any registry; the tests
 * use it for the same reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { DockerRuntime } from './docker-runtime.js';

export const DEMO_IMAGE = 'gantry/busybox:latest';

/** Imports the busybox image under `ref` unless it is there already; returns false when busybox is missing. */
export async function ensureBusyboxImage(runtime: DockerRuntime, ref = DEMO_IMAGE): Promise<boolean> {
  if (await runtime.hasImage(ref)) return true;
  if (!existsSync(BUSYBOX)) return false;
  await runtime.importImage(busyboxRootfs(), ref);
  return true;
}

const BUSYBOX = '/bin/busybox';

/** The test image's root filesystem as a tar. */
export function busyboxRootfs(): Buffer {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing; install Debian's busybox-static (apt-get install busybox-static)`);
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
