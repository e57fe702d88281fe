import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enginePaths } from './engine.js';

describe('enginePaths', () => {
  it('keeps everything under <dataDir>/docker when the socket paths fit', () => {
    assert.deepEqual(enginePaths('/var/lib/gantry'), {
      dataRoot: '/var/lib/gantry/docker/data',
      execRoot: '/var/lib/gantry/docker/exec',
      pidfile: '/var/lib/gantry/docker/docker.pid',
      socket: '/var/lib/gantry/docker/docker.sock',
      log: '/var/lib/gantry/docker/dockerd.log',
    });
  });

  it('moves sockets and the exec root to a short, stable directory when the data directory is long', () => {
    const long = `/home/someone/projects/${'deeply-nested/'.repeat(5)}gantry-data`;
    const a = enginePaths(long);
    assert.equal(a.dataRoot, `${long}/docker/data`);
    assert.equal(a.pidfile, `${long}/docker/docker.pid`);
    assert.match(a.socket, /^\/(run|tmp)\/gantry-docker-[0-9a-f]{12}\/docker\.sock$/);
    assert.ok(`${a.execRoot}/containerd/containerd.sock.ttrpc`.length <= 100);
    assert.deepEqual(enginePaths(long), a, 'the same directory each time, so a running engine is found again');
    assert.notEqual(enginePaths(`${long}-2`).socket, a.socket);
  });
});
