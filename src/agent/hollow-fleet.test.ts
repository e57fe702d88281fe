import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileAgentConfig } from '../config/agent-config.js';
import { seededRng } from '../util/clock.js';
import { silentLogger } from '../util/log.js';
import { HollowFleet } from './hollow-fleet.js';
import { desiredTask, eventually } from './testing.js';
import { JOIN_KEY, TestHub } from './test-hub.js';
import { TimerWheel } from './timers.js';

let hub: TestHub;
const timers = new TimerWheel({ resolutionMs: 10 });
before(async () => {
  hub = await new TestHub().listen();
});
after(async () => {
  timers.close();
  await hub.close();
});

describe('HollowFleet', () => {
  it('N instances in one process: each its own registration, state and channel', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'gantry-hollow-'));
    const config = compileAgentConfig(
      {
        endpoint: hub.url,
        cluster: 'scale',
        'join-token': `${JOIN_KEY.accessKeyId}:${JOIN_KEY.secretAccessKey}`,
        runtime: 'fake',
        instances: '6',
        cpu: '4096',
        memory: '8192',
        zones: 'a,b,c',
        'instance-types': 't1,t2',
        'state-dir': stateDir,
      },
      { env: {}, localAddresses: [] },
    );
    const fleet = new HollowFleet({ config: { ...config, fake: config.fake! }, agentVersion: 'test', timers, logger: silentLogger, rng: seededRng(3) });
    await fleet.start();
    assert.equal(fleet.agents.length, 6);
    const regs = hub.registrations.filter((r) => r.cluster === 'scale');
    assert.equal(regs.length, 6);
    const zone = (i: number) => regs[i]!.attributes.find((a) => a.name === 'ecs.availability-zone')?.value;
    assert.deepEqual(new Set([0, 1, 2, 3, 4, 5].map(zone)), new Set(['a', 'b', 'c']));
    assert.deepEqual(regs[0]!.totalResources.slice(0, 2).map((r) => r.integerValue), [4096, 8192]);
    assert.ok(existsSync(join(stateDir, 'hollow-00005', 'state.json')));
    assert.ok(!existsSync(join(stateDir, 'hollow-00005', 'outbox.jsonl')), 'hollow outboxes live in memory');
    await eventually(() => fleet.connected === 6, 5000, 'all connected');

    const arn = fleet.agents[4]!.containerInstanceArn!;
    const t = desiredTask([{ name: 'app', image: 'nginx' }]);
    hub.send(arn, { t: 'desired', tasks: [t] });
    await eventually(() => hub.of('report', arn).some((m) => m.report.lastStatus === 'RUNNING'), 5000, 'a hollow task runs');

    await fleet.stop();
    assert.equal(fleet.connected, 0);
    assert.ok((await fleet.exited).every((e) => e.kind === 'stopped'));
  });
});
