import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidate, demand } from '../testing.js';
import { attributesFilter } from './attributes.js';

describe('attributesFilter', () => {
  const c = candidate('a', {
    attributes: { 'com.amazonaws.ecs.capability.docker-remote-api.1.24': undefined, 'ecs.os-type': 'linux' },
  });

  it('passes when every required attribute is advertised', () => {
    const need = [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.24' }, { name: 'ecs.os-type', value: 'linux' }];
    assert.equal(attributesFilter.check(c, demand({ requiresAttributes: need })), undefined);
  });

  it('rejects a missing name or a different value with ATTRIBUTE, listing what is missing', () => {
    const r = attributesFilter.check(c, demand({ requiresAttributes: [{ name: 'ecs.capability.task-eni' }, { name: 'ecs.os-type', value: 'windows' }] }));
    assert.equal(r?.reason, 'ATTRIBUTE');
    assert.equal(r?.shortfall, 2);
    assert.match(r?.detail ?? '', /ecs\.capability\.task-eni, ecs\.os-type=windows/);
  });
});
