import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../../util/log.js';
import type { RuntimeEvent } from '../runtime.js';
import { EngineClient, compareVersions, parseDockerHost, registryAuthHeader } from './engine-client.js';
import { EngineEventStream, toRuntimeEvent } from './events.js';

/** An HTTP server on a unix socket standing in for the engine. */
async function stubEngine(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ host: string; server: Server }> {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-engine-stub-'));
  const socket = join(dir, 'docker.sock');
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(socket, r));
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { host: `unix://${socket}`, server };
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('EngineClient', () => {
  it('pins every request to API 1.41 and passes error statuses to the caller', async () => {
    const paths: string[] = [];
    const { host } = await stubEngine((req, res) => {
      paths.push(req.url!);
      if (req.url === '/version') return json(res, 200, { ApiVersion: '1.43' });
      if (req.url === '/v1.41/containers/nope/json') return json(res, 404, { message: 'No such container: nope' });
      json(res, 200, { ok: true, body: req.headers['content-type'] ?? null });
    });
    const c = new EngineClient(host);
    assert.equal((await c.request('GET', '/containers/nope/json')).status, 404);
    await assert.rejects(c.json('GET', '/containers/nope/json'), (e: Error & { status?: number }) => e.status === 404 && e.message === 'No such container: nope');
    assert.deepEqual(await c.json('POST', '/x', { body: { a: 1 }, query: { all: true, skip: undefined, n: 3 } }), { ok: true, body: 'application/json' });
    assert.deepEqual(paths, ['/version', '/v1.41/containers/nope/json', '/v1.41/containers/nope/json', '/v1.41/x?all=1&n=3'], 'the version is asked once');
    assert.equal(await c.ping(), true);
    c.close();
  });

  it('refuses an engine older than API 1.41 with a clear message', async () => {
    const { host } = await stubEngine((_req, res) => json(res, 200, { ApiVersion: '1.40' }));
    const c = new EngineClient(host);
    await assert.rejects(c.json('GET', '/info'), /Docker Engine API 1\.40 is too old: Gantry needs 1\.41/);
    c.close();
  });

  it('answers ping with false when nothing listens', async () => {
    const c = new EngineClient('unix:///nonexistent/gantry/docker.sock');
    assert.equal(await c.ping(), false);
    c.close();
  });
});

describe('DOCKER_HOST, versions and registry auth', () => {
  it('parses unix and tcp hosts and refuses others', () => {
    assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(parseDockerHost('/run/d.sock'), { socketPath: '/run/d.sock' });
    assert.deepEqual(parseDockerHost('tcp://10.0.0.5:2375'), { hostname: '10.0.0.5', port: 2375 });
    assert.deepEqual(parseDockerHost('tcp://[::1]:2375'), { hostname: '::1', port: 2375 });
    assert.throws(() => parseDockerHost('ssh://me@host'), /unsupported DOCKER_HOST/);
  });

  it('compares dotted versions numerically', () => {
    assert.ok(compareVersions('1.41', '1.41') === 0);
    assert.ok(compareVersions('1.9', '1.41') < 0);
    assert.ok(compareVersions('1.43', '1.41') > 0);
  });

  it('encodes X-Registry-Auth as padded base64url JSON', () => {
    const header = registryAuthHeader({ username: 'AWS', password: 'tok/en+?>', serverAddress: '123.dkr.ecr.eu-west-1.amazonaws.com' });
    assert.doesNotMatch(header, /[+/]/);
    assert.equal(header.length % 4, 0);
    assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString()), { username: 'AWS', password: 'tok/en+?>', serveraddress: '123.dkr.ecr.eu-west-1.amazonaws.com' });
  });
});

describe('engine events', () => {
  it('maps container actions to runtime events, separating labels from the engine\'s attributes', () => {
    const actor = { ID: 'c1', Attributes: { image: 'nginx', name: 'web', exitCode: '3', 'com.gantry.task-arn': 'arn' } };
    assert.deepEqual(toRuntimeEvent({ Type: 'container', Action: 'die', Actor: actor, timeNano: 1_700_000_000_123_000_000 }), {
      type: 'die',
      id: 'c1',
      labels: { 'com.gantry.task-arn': 'arn' },
      time: 1_700_000_000_123,
      exitCode: 3,
    });
    assert.equal(toRuntimeEvent({ Type: 'container', Action: 'health_status: healthy', Actor: actor, time: 1 })?.type, 'health');
    assert.equal(toRuntimeEvent({ Type: 'container', Action: 'exec_start: sh', Actor: actor }), undefined);
    assert.equal(toRuntimeEvent({ Type: 'network', Action: 'connect', Actor: actor }), undefined);
  });

  it('reconnects after the stream drops, resuming from the last event without repeating it', async () => {
    const ev = (action: string, n: number) => JSON.stringify({ Type: 'container', Action: action, Actor: { ID: `c${n}`, Attributes: {} }, time: 1_714_557_600, timeNano: 1_714_557_600_000_000_000 + n * 1_000_000 }) + '\n';
    const sinces: string[] = [];
    const { host } = await stubEngine((req, res) => {
      if (req.url === '/version') return json(res, 200, { ApiVersion: '1.41' });
      const url = new URL(req.url!, 'http://x');
      sinces.push(url.searchParams.get('since')!);
      assert.deepEqual(JSON.parse(url.searchParams.get('filters')!).type, ['container']);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (sinces.length === 1) {
        res.end(ev('start', 1) + ev('die', 2)); // the engine went away
      } else {
        res.write(ev('die', 2) + ev('destroy', 3)); // `since` replays the last event
      }
    });
    const client = new EngineClient(host);
    const stream = new EngineEventStream({ client, logger: silentLogger, now: () => 1_714_557_599_000 });
    const got: RuntimeEvent[] = [];
    const unsubscribe = stream.subscribe((e) => got.push(e));
    const deadline = Date.now() + 5_000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got.map((e) => `${e.type}:${e.id}`), ['start:c1', 'die:c2', 'destroy:c3']);
    assert.equal(sinces[0], '1714557599.000000000', 'the first connection asks from the moment of subscription');
    assert.match(sinces[1]!, /^1714557600\.00\d{7}$/);
    unsubscribe();
    stream.close();
    client.close();
  });
});
