/**
 * `npm run bench [-- section…]`: Gantry's benchmarks. Every figure is printed beside a baseline measured
 * in the same run, as a ratio, because these machines are noisy. Sections: api.
 */
import { apiBench } from './api-bench.js';

const sections = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const want = (name: string) => sections.length === 0 || sections.includes(name);
const durationMs = Number(process.env['GANTRY_BENCH_SECONDS'] ?? '5') * 1000;
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

const fmt = (n: number, d = 0) => n.toFixed(d).padStart(8);

async function main(): Promise<void> {
  if (want('api')) {
    log(`api: 8 concurrent clients, ${durationMs / 1000}s per measurement`);
    const rows = await apiBench({ durationMs, maxRequests: 2_000_000 }, log);
    console.log('\nAPI cost — signed requests from 8 concurrent loopback clients');
    console.log('operation                                   req/s    p50 ms   p99 ms | baseline req/s  p50 ms   p99 ms | ratio  target  errors');
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(40)}${fmt(r.result.rps)} ${fmt(r.result.p50ms, 2)} ${fmt(r.result.p99ms, 2)} |     ${fmt(r.baseline.rps)} ${fmt(r.baseline.p50ms, 2)} ${fmt(r.baseline.p99ms, 2)} | ${(r.ratio * 100).toFixed(0).padStart(4)}%  ≥${(r.target * 100).toFixed(0)}%  ${r.result.errors}${r.result.firstError ? ' ' + r.result.firstError : ''}`,
      );
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
