/**
 * The benchmark's baseline: a bare node:http server that does only what every Gantry API call must do
 * before any work — read the body and verify the same SigV4 signature — then returns a fixed body.
 * Gantry's API throughput is reported as a ratio of this one, measured in the same run.
 */
import { createServer } from 'node:http';
import { verifySigV4 } from '../auth/sigv4.js';

const [, , region = 'us-east-1', accessKeyId = '', secretAccessKey = ''] = process.argv;
const secrets = new Map([[accessKeyId, { secretAccessKey }]]);
const fixed = JSON.stringify({ ok: true });

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      verifySigV4(
        { method: req.method!, url: req.url ?? '/', headers: req.headersDistinct, body: Buffer.concat(chunks) },
        { region, services: ['ecs'], nowMs: Date.now() },
        (id) => secrets.get(id),
      );
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(fixed) });
      res.end(fixed);
    } catch (e) {
      const body = JSON.stringify({ __type: (e as { code?: string }).code ?? 'Error', message: (e as Error).message });
      res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
