/**
 * Durability end to end: a real `gantry server` killed with SIGKILL (no shutdown of any kind) and restarted on the
 * same data directory. What was acknowledged must be there, and revision counters must carry on from the highest
 * number ever handed out — a number is never given to two different definitions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  CreateClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import type { ECSClient, RegisterTaskDefinitionCommandOutput } from '@aws-sdk/client-ecs';
import { startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { sdkClient } from './support.js';

/** A definition whose image tag identifies the request that registered it. */
const definition = (family: string, mark: string) => ({
  family,
  containerDefinitions: [{ name: 'app', image: `registry.example/${family}:${mark}`, memory: 64, environment: [{ name: 'MARK', value: mark }] }],
});
const markOf = (image: string | undefined) => image?.split(':').at(-1);

/** Starts (or restarts) a server on `dataDir` and hands it and a fresh SDK client to `fn`; leaves cleanup to the caller. */
async function withServer(dataDir: string, port: number | undefined, servers: GantryProcess[]): Promise<{ g: GantryProcess; sdk: ECSClient }> {
  const g = await startGantry(port === undefined ? { dataDir } : { dataDir, port });
  servers.push(g);
  return { g, sdk: sdkClient(g.url) };
}

async function revisionsOf(sdk: ECSClient, family: string, status: 'ACTIVE' | 'INACTIVE' = 'ACTIVE'): Promise<number[]> {
  const out: number[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sdk.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, ...(nextToken ? { nextToken } : {}) }));
    for (const arn of page.taskDefinitionArns!) out.push(Number(arn.split(':').at(-1)));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

async function imageMark(sdk: ECSClient, family: string, revision: number): Promise<string | undefined> {
  const d = await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:${revision}` }));
  return markOf(d.taskDefinition!.containerDefinitions![0]!.image);
}

describe('durability across kill -9', () => {
  test('acknowledged writes survive and revision counters continue (same port, then a new port)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gantry-e2e-durable-'));
    const servers: GantryProcess[] = [];
    const clients: ECSClient[] = [];
    try {
      let { g, sdk } = await withServer(dataDir, undefined, servers);
      clients.push(sdk);
      const port = Number(new URL(g.url).port);

      await sdk.send(new CreateClusterCommand({ clusterName: 'durable', tags: [{ key: 'k', value: 'v' }] }));
      for (let i = 1; i <= 5; i++) {
        const r = await sdk.send(new RegisterTaskDefinitionCommand(definition('dur-a', `a${i}`)));
        assert.equal(r.taskDefinition!.revision, i);
      }
      await sdk.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'dur-a:2' }));
      for (let i = 1; i <= 2; i++) await sdk.send(new RegisterTaskDefinitionCommand(definition('dur-b', `b${i}`)));
      // The last acknowledged write before the crash; the next one is never sent.
      assert.equal((await sdk.send(new RegisterTaskDefinitionCommand(definition('dur-a', 'a6')))).taskDefinition!.revision, 6);
      await g.kill9();
      assert.equal(g.child.signalCode, 'SIGKILL');

      // Restart on the same data directory and the same port.
      ({ g, sdk } = await withServer(dataDir, port, servers));
      clients.push(sdk);
      assert.equal(g.url, `http://127.0.0.1:${port}`);
      const c = await sdk.send(new DescribeClustersCommand({ clusters: ['durable'], include: ['TAGS'] }));
      assert.equal(c.clusters![0]?.status, 'ACTIVE');
      assert.deepEqual(c.clusters![0]!.tags, [{ key: 'k', value: 'v' }]);
      assert.deepEqual(await revisionsOf(sdk, 'dur-a'), [1, 3, 4, 5, 6]);
      assert.deepEqual(await revisionsOf(sdk, 'dur-a', 'INACTIVE'), [2]);
      for (let i = 1; i <= 6; i++) assert.equal(await imageMark(sdk, 'dur-a', i), `a${i}`, `dur-a:${i}`);
      assert.deepEqual(await revisionsOf(sdk, 'dur-b'), [1, 2]);
      assert.equal((await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'dur-a' }))).taskDefinition!.revision, 6);
      // The counters continue.
      assert.equal((await sdk.send(new RegisterTaskDefinitionCommand(definition('dur-a', 'a7')))).taskDefinition!.revision, 7);
      assert.equal((await sdk.send(new RegisterTaskDefinitionCommand(definition('dur-b', 'b3')))).taskDefinition!.revision, 3);
      await g.kill9();

      // And again, on a new port.
      ({ g, sdk } = await withServer(dataDir, undefined, servers));
      clients.push(sdk);
      assert.deepEqual(await revisionsOf(sdk, 'dur-a'), [1, 3, 4, 5, 6, 7]);
      assert.equal(await imageMark(sdk, 'dur-a', 7), 'a7');
      assert.equal(await imageMark(sdk, 'dur-b', 3), 'b3');
      assert.equal((await sdk.send(new RegisterTaskDefinitionCommand(definition('dur-a', 'a8')))).taskDefinition!.revision, 8);
    } finally {
      for (const c of clients) c.destroy();
      for (const s of servers) await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('kill -9 during 50 concurrent registrations: every 200 survives, no revision is reused', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gantry-e2e-burst-'));
    const servers: GantryProcess[] = [];
    const clients: ECSClient[] = [];
    try {
      let { g, sdk } = await withServer(dataDir, undefined, servers);
      clients.push(sdk);
      // Some history first, so that the counter does not start at 1.
      for (let i = 1; i <= 3; i++) await sdk.send(new RegisterTaskDefinitionCommand(definition('burst', `pre${i}`)));
      const expected: string[] = ['pre1', 'pre2', 'pre3'];
      const N = 50;
      // Three crashes, each at a different point of the burst: after the 1st, the 10th and the 40th acknowledgement.
      for (const [round, killAfter] of [1, 10, 40].entries()) {
        // One attempt per request: an outcome is either the server's 200 or a failure, never a silent retry.
        const burst = sdkClient(g.url, { maxAttempts: 1 });
        clients.push(burst);
        const victim = g;
        let killed: Promise<void> | undefined;
        const acked: { mark: string; revision: number }[] = [];
        const calls = Array.from({ length: N }, (_, i) =>
          burst.send(new RegisterTaskDefinitionCommand(definition('burst', `r${round}w${i}`))).then((r: RegisterTaskDefinitionCommandOutput) => {
            assert.equal(r.$metadata.httpStatusCode, 200);
            acked.push({ mark: `r${round}w${i}`, revision: r.taskDefinition!.revision! });
            // Crash with the rest of the burst in flight.
            if (acked.length === killAfter) killed = victim.kill9();
          }),
        );
        const outcomes = await Promise.allSettled(calls);
        await (killed ?? victim.kill9());
        const failed = outcomes.filter((o) => o.status === 'rejected').length;
        assert.ok(acked.length >= killAfter);
        assert.equal(acked.length + failed, N);
        const ackedRevisions = acked.map((a) => a.revision);
        assert.equal(new Set(ackedRevisions).size, ackedRevisions.length, `a revision was acknowledged twice: ${ackedRevisions.join(',')}`);
        for (const r of ackedRevisions) assert.ok(r > expected.length, `revision ${r} reuses a number issued before the burst`);

        ({ g, sdk } = await withServer(dataDir, undefined, servers));
        clients.push(sdk);
        const present = await revisionsOf(sdk, 'burst');
        // Every acknowledged registration is there, under the revision it was acknowledged with.
        for (const a of acked) {
          assert.ok(present.includes(a.revision), `acknowledged burst:${a.revision} (${a.mark}) lost`);
          assert.equal(await imageMark(sdk, 'burst', a.revision), a.mark, `burst:${a.revision} holds another definition`);
        }
        // Revisions are 1..max with no gaps (commits are durable in order); what was there before is unchanged,
        // and each revision holds a distinct request of this burst.
        const max = Math.max(...present);
        assert.deepEqual(present, Array.from({ length: max }, (_, i) => i + 1));
        const marks = await Promise.all(present.map((r) => imageMark(sdk, 'burst', r)));
        assert.deepEqual(marks.slice(0, expected.length), expected);
        const fresh = marks.slice(expected.length);
        assert.equal(new Set(fresh).size, fresh.length, 'one request stored under two revisions');
        for (const m of fresh) assert.match(m ?? '', new RegExp(`^r${round}w\\d+$`));
        t.diagnostic(`round ${round}: killed after ${killAfter} acknowledgements; ${acked.length} of ${N} acknowledged, ${fresh.length} present after restart`);
        // The next registration takes the next number: nothing issued before the crash is handed out again.
        const next = (await sdk.send(new RegisterTaskDefinitionCommand(definition('burst', `after${round}`)))).taskDefinition!.revision!;
        assert.equal(next, max + 1);
        expected.push(...(fresh as string[]), `after${round}`);
      }
    } finally {
      for (const c of clients) c.destroy();
      for (const s of servers) await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
