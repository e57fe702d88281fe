import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cloneWire, isEcrImage, osKindOf } from './model.js';

describe('osKindOf', () => {
  it('treats every WINDOWS_SERVER_* family as Windows and everything else as Linux', () => {
    assert.equal(osKindOf({ runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' } }), 'WINDOWS');
    assert.equal(osKindOf({ runtimePlatform: { operatingSystemFamily: 'LINUX' } }), 'LINUX');
    assert.equal(osKindOf({ runtimePlatform: { cpuArchitecture: 'ARM64' } }), 'LINUX');
    assert.equal(osKindOf({}), 'LINUX');
  });
});

describe('cloneWire', () => {
  it('deep-copies and drops undefined members', () => {
    const source = { a: 1, b: undefined, nested: { list: [1, 2] } };
    const copy = cloneWire(source);
    assert.deepEqual(copy, { a: 1, nested: { list: [1, 2] } });
    assert.deepEqual(Object.keys(copy), ['a', 'nested']);
    copy.nested.list.push(3);
    assert.deepEqual(source.nested.list, [1, 2]);
  });
});

describe('isEcrImage', () => {
  it('recognises ECR registry hosts, including FIPS and other domains with the same scheme', () => {
    assert.ok(isEcrImage('123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1'));
    assert.ok(isEcrImage('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app@sha256:' + 'a'.repeat(64)));
    assert.ok(isEcrImage('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app'));
    assert.ok(isEcrImage('123456789012.dkr.ecr.eu-west-1.gantry.local:5000/app'));
  });

  it('does not match Docker Hub, public ECR or other registries', () => {
    assert.ok(!isEcrImage('nginx:latest'));
    assert.ok(!isEcrImage('public.ecr.aws/nginx/nginx:latest'));
    assert.ok(!isEcrImage('quay.io/org/app'));
    assert.ok(!isEcrImage('12345.dkr.ecr.us-east-1.amazonaws.com/app'));
  });
});
