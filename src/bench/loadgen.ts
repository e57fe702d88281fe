/**
 * A closed-loop HTTP load generator: `concurrency` workers on keep-alive connections, each sending the next
 * pre-built request as soon as its previous one answered. Bounded by both a request count and a duration.
 */
import { Agent, request } from 'node:http';

export interface LoadRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly firstError?: string;
}

export async function runLoad(opts: {
  readonly requests: readonly LoadRequest[];
  readonly concurrency: number;
  readonly durationMs: number;
  readonly maxRequests: number;
}): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + opts.durationMs;

  const one = (r: LoadRequest): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = request(r.url, { method: 'POST', headers: r.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          if (res.statusCode !== 200) {
            errors++;
            firstError ??= `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`;
          }
          resolve();
        });
      });
      req.on('error', (e) => {
        errors++;
        firstError ??= e.message;
        resolve();
      });
      req.end(r.body);
    });

  const worker = async (): Promise<void> => {
    while (next < opts.maxRequests && performance.now() < deadline) {
      const r = opts.requests[next++ % opts.requests.length]!;
      await one(r);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50ms: q(0.5),
    p99ms: q(0.99),
    ...(firstError ? { firstError } : {}),
  };
}
