import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PortMapping } from '@aws-sdk/client-ecs';
import type { EffectiveNetworkMode } from './model.js';
import { assertNoPortConflicts, normalisePortMappings } from './ports.js';
import { expectApiError, stubContainer } from './testing.js';

const map = (mode: EffectiveNetworkMode, ...mappings: PortMapping[]) => normalisePortMappings('web', mappings, mode);

const container = (name: string, portMappings: PortMapping[]) => stubContainer(name, { portMappings });

describe('normalisePortMappings: echoed defaults', () => {
  it('bridge: an omitted hostPort is stored as 0 (dynamic) and protocol defaults to tcp', () => {
    assert.deepEqual(map('bridge', { containerPort: 80 }), [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }]);
    assert.deepEqual(map('bridge', { containerPort: 80, hostPort: 8080, protocol: 'udp' }), [{ containerPort: 80, hostPort: 8080, protocol: 'udp' }]);
  });

  it('awsvpc and host: an omitted (or 0) hostPort becomes the container port', () => {
    for (const mode of ['awsvpc', 'host'] as const) {
      assert.deepEqual(map(mode, { containerPort: 8080 }), [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }]);
      assert.deepEqual(map(mode, { containerPort: 8080, hostPort: 0 }), [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }]);
      assert.deepEqual(map(mode, { containerPort: 8080, hostPort: 8080 }), [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }]);
    }
  });

  it('keeps name and appProtocol', () => {
    assert.deepEqual(map('awsvpc', { containerPort: 80, name: 'http', appProtocol: 'http' }), [
      { containerPort: 80, hostPort: 80, protocol: 'tcp', name: 'http', appProtocol: 'http' },
    ]);
  });
});

describe('normalisePortMappings: rules', () => {
  it('awsvpc and host reject a hostPort different from the containerPort', () => {
    expectApiError(() => map('awsvpc', { containerPort: 80, hostPort: 8080 }), 'ClientException', 'When networkMode=awsvpc, the host ports and container ports in port mappings must match.');
    expectApiError(() => map('host', { containerPort: 80, hostPort: 8080 }), 'ClientException', 'When networkMode=host, the host ports');
  });

  it('none rejects any port mapping', () => {
    expectApiError(() => map('none', { containerPort: 80 }), 'ClientException', 'Port mappings are not allowed when networkMode=none.');
    assert.deepEqual(map('none'), []);
  });

  it('requires a container port in 1–65535 and a host port in 0–65535', () => {
    expectApiError(() => map('bridge', {}), 'ClientException', "Invalid 'containerPort' setting for container 'web'.");
    expectApiError(() => map('bridge', { containerPort: 0 }), 'ClientException', "Invalid 'containerPort' setting");
    expectApiError(() => map('bridge', { containerPort: 65536 }), 'ClientException', "Invalid 'containerPort' setting");
    expectApiError(() => map('bridge', { containerPort: 80, hostPort: 70000 }), 'ClientException', "Invalid 'hostPort' setting for container 'web'.");
  });

  it('rejects the same container port twice in one container, whatever the protocol', () => {
    expectApiError(() => map('bridge', { containerPort: 53 }, { containerPort: 53 }), 'ClientException', 'Container port 53 appears in more than one port mapping');
    expectApiError(() => map('awsvpc', { containerPort: 53, protocol: 'tcp' }, { containerPort: 53, protocol: 'udp' }), 'ClientException', 'whatever its protocol');
  });
});

describe('normalisePortMappings: containerPortRange', () => {
  it('accepts ranges in bridge and awsvpc, keeping no hostPort', () => {
    assert.deepEqual(map('bridge', { containerPortRange: '8000-8100' }), [{ containerPortRange: '8000-8100', protocol: 'tcp' }]);
    assert.deepEqual(map('awsvpc', { containerPortRange: '1-65535', protocol: 'udp' }), [{ containerPortRange: '1-65535', protocol: 'udp' }]);
  });

  it('rejects ranges in host and none modes', () => {
    expectApiError(() => map('host', { containerPortRange: '8000-8100' }), 'ClientException', 'Port ranges require networkMode=bridge or networkMode=awsvpc.');
  });

  it('rejects containerPort or hostPort alongside a range', () => {
    expectApiError(() => map('bridge', { containerPortRange: '8000-8100', containerPort: 8000 }), 'ClientException', "Do not specify 'containerPort' or 'hostPort'");
    expectApiError(() => map('awsvpc', { containerPortRange: '8000-8100', hostPort: 8000 }), 'ClientException', "Do not specify 'containerPort' or 'hostPort'");
  });

  it('requires first < last within 1–65535', () => {
    for (const bad of ['8100-8000', '8000-8000', '0-10', '1-65536', '80', 'a-b', '80-90-100']) {
      expectApiError(() => map('bridge', { containerPortRange: bad }), 'ClientException', "Invalid 'containerPortRange' setting for container 'web'.");
    }
  });

  it('rejects overlapping ranges and a port inside a range', () => {
    expectApiError(() => map('bridge', { containerPortRange: '8000-8100' }, { containerPortRange: '8100-8200' }), 'ClientException', 'Container port 8100 appears in more than one');
    expectApiError(() => map('awsvpc', { containerPortRange: '8000-8100' }, { containerPort: 8050 }), 'ClientException', 'Container port 8050');
  });

  it('allows at most 100 ranges per container', () => {
    const ranges = (n: number) => Array.from({ length: n }, (_, i) => ({ containerPortRange: `${10000 + i * 10}-${10000 + i * 10 + 5}` }));
    assert.equal(normalisePortMappings('web', ranges(100), 'bridge').length, 100);
    expectApiError(() => normalisePortMappings('web', ranges(101), 'bridge'), 'ClientException', 'At most 100 port ranges');
  });
});

describe('assertNoPortConflicts', () => {
  it('bridge: the same container port in two containers is fine when host ports are dynamic', () => {
    const a = container('a', map('bridge', { containerPort: 80 }));
    const b = container('b', map('bridge', { containerPort: 80 }));
    assertNoPortConflicts([a, b], 'bridge');
  });

  it('bridge: a static host port can be used once per protocol across the task', () => {
    const a = container('a', map('bridge', { containerPort: 80, hostPort: 8080 }));
    const b = container('b', map('bridge', { containerPort: 81, hostPort: 8080 }));
    expectApiError(() => assertNoPortConflicts([a, b], 'bridge'), 'ClientException', "Host port 8080/tcp is mapped by both container 'a' and container 'b'");
    const c = container('c', map('bridge', { containerPort: 81, hostPort: 8080, protocol: 'udp' }));
    assertNoPortConflicts([a, c], 'bridge');
  });

  it('bridge: two mappings of one container to the same static host port collide', () => {
    const a = container('a', map('bridge', { containerPort: 80, hostPort: 8080 }, { containerPort: 81, hostPort: 8080 }));
    expectApiError(() => assertNoPortConflicts([a], 'bridge'), 'ClientException', "mapped twice in container 'a'");
  });

  it('awsvpc: containers share a namespace, so a container port (per protocol) belongs to one container', () => {
    const a = container('a', map('awsvpc', { containerPort: 80 }));
    const b = container('b', map('awsvpc', { containerPort: 80 }));
    expectApiError(() => assertNoPortConflicts([a, b], 'awsvpc'), 'ClientException', 'Port 80/tcp is mapped by both');
    const c = container('c', map('awsvpc', { containerPort: 80, protocol: 'udp' }));
    assertNoPortConflicts([a, c], 'awsvpc');
    const d = container('d', map('awsvpc', { containerPortRange: '70-90' }));
    expectApiError(() => assertNoPortConflicts([a, d], 'awsvpc'), 'ClientException', 'share one network namespace');
  });
});
