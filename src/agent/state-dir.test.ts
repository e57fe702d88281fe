import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATE_FILE, StateDirError, loadState, lockStateDir, newState, saveState } from './state-dir.js';

const dir = () => mkdtempSync(join(tmpdir(), 'gantry-state-'));

describe('state dir', () => {
  it('saves and loads the identity, readable only by its owner', () => {
    const d = dir();
    assert.equal(loadState(d), undefined);
    const s = { ...newState('prod'), containerInstanceArn: 'arn:ci', accessKeyId: 'AK', secretAccessKey: 'SK', region: 'us-east-1' };
    saveState(d, s);
    assert.deepEqual(loadState(d), s);
    assert.equal(statSync(join(d, STATE_FILE)).mode & 0o777, 0o600);
    writeFileSync(join(d, STATE_FILE), '{"version":9}');
    assert.throws(() => loadState(d), StateDirError);
  });

  it('one agent per directory; a lock left by a dead process is taken over', () => {
    const d = dir();
    const unlock = lockStateDir(d);
    assert.throws(() => lockStateDir(d), /another agent/);
    unlock();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(d, 'agent.lock'), dead);
    lockStateDir(d)();
  });
});
