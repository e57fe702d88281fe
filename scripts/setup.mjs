#!/usr/bin/env node
// One-step setup behind `npm start` and `npm test`: installs what is missing, builds, and (with --for-tests)
// installs the real clients the end-to-end tests drive. Only npm and Debian's apt reach the network.
// Idempotent and quick when nothing changed, so both commands can always call it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const forTests = process.argv.includes('--for-tests');
const quiet = process.argv.includes('--quiet');
const log = (msg) => { if (!quiet) process.stderr.write(`[setup] ${msg}\n`); };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit', ...opts });
  if (r.status !== 0) {
    process.stderr.write(`[setup] '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal}).\n`);
    process.exit(r.status ?? 1);
  }
}

function hashOf(files) {
  const h = createHash('sha256');
  for (const f of files) if (existsSync(join(root, f))) h.update(readFileSync(join(root, f)));
  return h.digest('hex');
}

// 1. npm dependencies: reinstall only when package.json / the lockfile changed since the last install.
const stamp = join(root, 'node_modules', '.gantry-install-stamp');
const depsHash = hashOf(['package.json', 'package-lock.json']);
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== depsHash) {
  log('installing npm dependencies (first run builds the SQLite driver; this takes a minute)…');
  run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-fund', '--no-audit']);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, depsHash);
}

// 2. Build: tsc is incremental; skip it entirely when no source is newer than the last build.
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const buildInfo = join(root, 'dist', '.tsbuildinfo');
const srcTime = Math.max(newest(join(root, 'src')), statSync(join(root, 'tsconfig.json')).mtimeMs);
if (!existsSync(buildInfo) || statSync(buildInfo).mtimeMs < srcTime) {
  log('building (tsc)…');
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
}

// 3. For the tests: Debian's AWS CLI and boto3 (the tests call /usr/bin/aws and /usr/bin/python3), a Docker
//    engine to run real containers (the tests start their own dockerd), busybox-static, from which the
//    tests build their container image offline, skopeo (registry tests) and docker-registry (registry bench).
if (forTests) {
  const need = [];
  if (!existsSync('/usr/bin/aws')) need.push('awscli');
  if (spawnSync('/usr/bin/python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status !== 0) need.push('python3-boto3');
  if (!existsSync('/usr/sbin/dockerd')) need.push('docker.io');
  if (!existsSync('/bin/busybox')) need.push('busybox-static');
  // The registry's tests copy images in and out with skopeo; its benchmark compares with Debian's reference registry.
  if (!existsSync('/usr/bin/skopeo')) need.push('skopeo');
  if (!existsSync('/usr/bin/docker-registry')) need.push('docker-registry');
  if (need.length > 0) aptInstall(need);
}

function aptInstall(pkgs) {
  if (process.getuid?.() !== 0) {
    process.stderr.write(`[setup] the tests need Debian packages ${pkgs.join(', ')}; run: sudo apt-get install -y ${pkgs.join(' ')}\n`);
    process.exit(1);
  }
  log(`installing Debian packages: ${pkgs.join(', ')}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lists = '/var/lib/apt/lists';
  const fresh = existsSync(lists) && readdirSync(lists).some((f) => f.endsWith('_Packages'));
  if (!fresh) run('apt-get', ['update', '-qq'], { env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
  if (r.status !== 0) {
    run('apt-get', ['update', '-qq'], { env });
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
  }
}
