import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseTags } from './tags.js';
import { expectApiError } from './testing.js';

describe('normaliseTags', () => {
  it('returns [] when no tags are given and the validated tags otherwise (missing value stored as "")', () => {
    assert.deepEqual(normaliseTags(undefined), []);
    assert.deepEqual(normaliseTags([{ key: 'team', value: 'core' }, { key: 'empty' }, { key: 'Ünïcode key', value: 'a/b=c+d@e:f' }]), [
      { key: 'team', value: 'core' },
      { key: 'empty', value: '' },
      { key: 'Ünïcode key', value: 'a/b=c+d@e:f' },
    ]);
  });

  it('rejects an explicitly empty list with ClientException (ECS wording)', () => {
    expectApiError(() => normaliseTags([]), 'ClientException', 'Tags can not be empty.');
  });

  it('applies the shared tag limits as InvalidParameterException', () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    assert.equal(normaliseTags(tags(50)).length, 50);
    expectApiError(() => normaliseTags(tags(51)), 'InvalidParameterException', 'at most 50 tags');
    normaliseTags([{ key: 'k'.repeat(128), value: 'v'.repeat(256) }]);
    expectApiError(() => normaliseTags([{ key: '' }]), 'InvalidParameterException', '1-128 characters');
    expectApiError(() => normaliseTags([{ key: 'k'.repeat(129) }]), 'InvalidParameterException', '1-128 characters');
    expectApiError(() => normaliseTags([{ key: 'k', value: 'v'.repeat(257) }]), 'InvalidParameterException', 'longer than 256 characters');
    expectApiError(() => normaliseTags([{ key: 'bad*key' }]), 'InvalidParameterException', 'may contain only letters');
  });

  it('reserves the aws: prefix in keys, in any case', () => {
    expectApiError(() => normaliseTags([{ key: 'aws:owner' }]), 'InvalidParameterException', "'aws:' prefix is reserved");
    expectApiError(() => normaliseTags([{ key: 'AWS:owner' }]), 'InvalidParameterException', "'aws:' prefix is reserved");
    normaliseTags([{ key: 'myaws:owner' }]);
  });
});
