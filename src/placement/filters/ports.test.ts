import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidate, demand } from '../testing.js';
import { portsFilter } from './ports.js';

describe('portsFilter', () => {
  const c = candidate('a', { remaining: { portsTcp: new Set([22, 80]), portsUdp: new Set([53]) } });

  it('passes free ports, and the same number under the other protocol', () => {
    assert.equal(portsFilter.check(c, demand({ portsTcp: [8080, 53], portsUdp: [80] })), undefined);
  });

  it('rejects a TCP port in use with RESOURCE:PORTS_TCP, naming it', () => {
    const r = portsFilter.check(c, demand({ portsTcp: [80, 8080] }));
    assert.equal(r?.reason, 'RESOURCE:PORTS_TCP');
    assert.match(r?.detail ?? '', /TCP host port 80 is already in use/);
  });

  it('rejects a UDP port in use with RESOURCE:PORTS_UDP', () => {
    assert.equal(portsFilter.check(c, demand({ portsUdp: [53] }))?.reason, 'RESOURCE:PORTS_UDP');
  });

  it('reports TCP first when both clash', () => {
    assert.equal(portsFilter.check(c, demand({ portsTcp: [22], portsUdp: [53] }))?.reason, 'RESOURCE:PORTS_TCP');
  });
});
