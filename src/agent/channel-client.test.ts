import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import type { ServerMessage } from '../protocol/agent/messages.js';
import { verifySigV4 } from '../auth/sigv4.js';
import { silentLogger } from '../util/log.js';
import { ChannelClient } from './channel-client.js';
import { eventually } from './testing.js';
import { TimerWheel } from './timers.js';

const credentials = { accessKeyId: 'AKIDCHANNEL', secretAccessKey: 'channel-secret' };
const timers = new TimerWheel({ resolutionMs: 5 });
after(() => timers.close());

/** A channel endpoint that checks the presigned upgrade and hands each socket to `onSocket`. */
async function server(onSocket: (ws: WebSocket) => void) {
  const wss = new WebSocketServer({ noServer: true });
  const upgrades: number[] = [];
  const http = createServer();
  http.on('upgrade', (req, socket, head) => {
    upgrades.push(Date.now());
    try {
      verifySigV4({ method: 'GET', url: req.url!, headers: req.headersDistinct, body: Buffer.alloc(0) }, { region: 'us-east-1', services: ['ecs'], nowMs: Date.now() }, (id) =>
        id === credentials.accessKeyId ? { secretAccessKey: credentials.secretAccessKey } : undefined,
      );
    } catch {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, onSocket);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    upgrades,
    close: () => {
      for (const c of wss.clients) c.terminate();
      return new Promise((r) => http.close(r));
    },
  };
}

function client(url: string, over: Partial<ConstructorParameters<typeof ChannelClient>[0]> = {}) {
  const messages: ServerMessage[] = [];
  let opens = 0;
  const c = new ChannelClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: () => credentials,
    timers,
    rng: { float: () => 0.5, hex: () => '' },
    logger: silentLogger,
    onOpen: () => opens++,
    onMessage: (m) => messages.push(m),
    ...over,
  });
  return { c, messages, opens: () => opens };
}

describe('ChannelClient', () => {
  it('connects with a presigned URL, sends and receives JSON frames, heartbeats', async () => {
    const got: unknown[] = [];
    const s = await server((ws) => {
      ws.on('message', (d) => got.push(JSON.parse(d.toString())));
      ws.send(JSON.stringify({ t: 'ack', seq: 3 }));
    });
    const { c, messages, opens } = client(s.url, { heartbeatMs: 30 });
    c.start();
    await eventually(() => c.connected && messages.length === 1, 3000, 'connected');
    assert.equal(opens(), 1);
    assert.deepEqual(messages, [{ t: 'ack', seq: 3 }]);
    assert.ok(c.send({ t: 'heartbeat', at: 1 }));
    await eventually(() => got.filter((m) => (m as { t: string }).t === 'heartbeat').length >= 3, 3000, 'heartbeats');
    await c.close();
    assert.equal(c.send({ t: 'heartbeat', at: 2 }), false);
    await s.close();
  });

  it('a silent server (no messages, no pongs) is dropped and dialled again', async () => {
    const s = await server((ws) => {
      // Stop reading: pings go unanswered, as on a dead peer.
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    });
    const { c } = client(s.url, { heartbeatMs: 30, livenessMs: 100, initialBackoffMs: 10 });
    c.start();
    await eventually(() => c.connects >= 2, 5000, 'a second connection');
    await c.close();
    await s.close();
  });

  it('backs off exponentially while the server refuses, capped', async () => {
    const s = await server((ws) => ws.terminate());
    const { c } = client(s.url, { initialBackoffMs: 20, maxBackoffMs: 160 });
    c.start();
    await eventually(() => s.upgrades.length >= 7, 10_000, 'seven attempts');
    await c.close();
    const gaps = s.upgrades.slice(1).map((t, i) => t - s.upgrades[i]!);
    // Equal jitter with rng 0.5: 3/4 of 20, 40, 80, 160, 160, … ms.
    assert.ok(gaps[0]! < gaps[2]!, `grows: ${gaps.join(', ')}`);
    assert.ok(gaps.every((g) => g < 400), `capped: ${gaps.join(', ')}`);
    await s.close();
  });
});
