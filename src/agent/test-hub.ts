/**
 * A small stand-in for the server's side of the agent channel, speaking src/protocol/agent/messages.ts: the
 * signed registration endpoint and the signed WebSocket upgrade, with hooks for tests to send desired sets,
 * acknowledge, refuse or drop connections. Test support only.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { verifySigV4 } from '../auth/sigv4.js';
import type { DesiredTask } from '../domain/task.js';
import type { AgentMessage, AgentRegisterRequest, AgentRegisterResponse, ServerMessage } from '../protocol/agent/messages.js';
import { AGENT_CHANNEL_PATH, AGENT_REGISTER_PATH } from '../protocol/agent/messages.js';

export const JOIN_KEY = { accessKeyId: 'GJTKTESTJOINKEY00001', secretAccessKey: 'join-secret-0000000000000000000000000000' };

export interface Session {
  readonly instanceArn: string;
  readonly ws: WebSocket;
  readonly messages: AgentMessage[];
}

export class TestHub {
  readonly server: Server;
  readonly wss = new WebSocketServer({ noServer: true });
  readonly registrations: AgentRegisterRequest[] = [];
  readonly sessions: Session[] = [];
  /** Every message from every session, in arrival order. */
  readonly messages: (AgentMessage & { instanceArn: string })[] = [];
  /** Instance credentials issued, by access key id. */
  readonly credentials = new Map<string, { secret: string; instanceArn: string }>();
  /** Acknowledge each report as it arrives. */
  autoAck = true;
  /** What `desired` to send right after a hello, per instance. */
  desired = new Map<string, DesiredTask[]>();
  rejectUpgrades = false;
  #next = 0;
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== AGENT_REGISTER_PATH) {
          res.writeHead(404).end();
          return;
        }
        const body = Buffer.concat(chunks);
        try {
          verify(req, body, (id) => (id === JOIN_KEY.accessKeyId ? JOIN_KEY.secretAccessKey : undefined));
        } catch (e) {
          res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ __type: 'AccessDeniedException', message: (e as Error).message }));
          return;
        }
        const input = JSON.parse(body.toString()) as AgentRegisterRequest;
        this.registrations.push(input);
        const instanceArn = input.containerInstanceArn ?? `arn:aws:ecs:us-east-1:000000000000:container-instance/${input.cluster}/${(++this.#next).toString(16).padStart(32, '0')}`;
        const out: AgentRegisterResponse = {
          containerInstanceArn: instanceArn,
          accessKeyId: `GAIK${String(this.#next).padStart(16, '0')}${this.registrations.length}`,
          secretAccessKey: `instance-secret-${this.registrations.length}`,
          region: 'us-east-1',
        };
        this.credentials.set(out.accessKeyId, { secret: out.secretAccessKey, instanceArn });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket, head) => {
      let instanceArn: string;
      try {
        if ((req.url ?? '').split('?')[0] !== AGENT_CHANNEL_PATH || this.rejectUpgrades) throw new Error('no');
        const v = verify(req, Buffer.alloc(0), (id) => this.credentials.get(id)?.secret);
        instanceArn = this.credentials.get(v)!.instanceArn;
      } catch {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.#session(ws, instanceArn));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  send(instanceArn: string, m: ServerMessage): void {
    for (const s of this.sessions) if (s.instanceArn === instanceArn && s.ws.readyState === s.ws.OPEN) s.ws.send(JSON.stringify(m));
  }

  /** Drops every open connection, as a server restart would. */
  dropAll(): void {
    for (const s of this.sessions) s.ws.terminate();
  }

  of<T extends AgentMessage['t']>(t: T, instanceArn?: string): Extract<AgentMessage, { t: T }>[] {
    return this.messages.filter((m) => m.t === t && (instanceArn === undefined || m.instanceArn === instanceArn)) as unknown as Extract<AgentMessage, { t: T }>[];
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.ws.terminate();
    this.wss.close();
    await new Promise((r) => this.server.close(r));
  }

  #session(ws: WebSocket, instanceArn: string): void {
    const session: Session = { instanceArn, ws, messages: [] };
    this.sessions.push(session);
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as AgentMessage;
      session.messages.push(m);
      this.messages.push({ ...m, instanceArn });
      if (m.t === 'hello') {
        const tasks = this.desired.get(instanceArn);
        if (tasks !== undefined) ws.send(JSON.stringify({ t: 'desired', tasks } satisfies ServerMessage));
      } else if (m.t === 'report' && this.autoAck) {
        ws.send(JSON.stringify({ t: 'ack', seq: m.seq } satisfies ServerMessage));
      }
    });
  }
}

/** Verifies a request's SigV4 signature (header or presigned); returns the access key id. */
function verify(req: IncomingMessage, body: Buffer, secret: (id: string) => string | undefined): string {
  const v = verifySigV4(
    { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headersDistinct, body },
    { region: 'us-east-1', services: ['ecs'], nowMs: Date.now() },
    (id) => {
      const s = secret(id);
      return s === undefined ? undefined : { secretAccessKey: s };
    },
  );
  return v.accessKeyId;
}
