import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidate, demand } from '../testing.js';
import { agentFilter } from './agent.js';

describe('agentFilter', () => {
  it('passes ACTIVE instances with a connected agent', () => {
    assert.equal(agentFilter.check(candidate('a'), demand()), undefined);
  });

  it('rejects a disconnected agent with AGENT', () => {
    assert.equal(agentFilter.check(candidate('a', { agentConnected: false }), demand())?.reason, 'AGENT');
  });

  it('rejects instances that are not ACTIVE under their status, before looking at the agent', () => {
    for (const status of ['DRAINING', 'INACTIVE', 'REGISTERING']) {
      assert.equal(agentFilter.check(candidate('a', { status, agentConnected: false }), demand())?.reason, status);
    }
  });
});
