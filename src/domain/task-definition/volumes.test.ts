import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectApiError } from './testing.js';
import { normaliseVolumes } from './volumes.js';

describe('normaliseVolumes', () => {
  it('returns [] when absent and echoes configuredAtLaunch false by default', () => {
    assert.deepEqual(normaliseVolumes(undefined), []);
    assert.deepEqual(normaliseVolumes([{ name: 'data', host: { sourcePath: '/srv' } }, { name: 'scratch' }]), [
      { name: 'data', host: { sourcePath: '/srv' }, configuredAtLaunch: false },
      { name: 'scratch', configuredAtLaunch: false },
    ]);
  });

  it('requires a valid, unique name', () => {
    expectApiError(() => normaliseVolumes([{ host: {} }]), 'ClientException', 'Volume.name should not be null or empty.');
    expectApiError(() => normaliseVolumes([{ name: 'my volume' }]), 'ClientException', "Invalid volume name 'my volume'");
    expectApiError(() => normaliseVolumes([{ name: 'v' }, { name: 'v' }]), 'ClientException', "Volume names must be unique within a Task Definition; 'v'");
  });

  it('allows only one kind of volume per entry', () => {
    expectApiError(
      () => normaliseVolumes([{ name: 'v', host: {}, dockerVolumeConfiguration: { scope: 'task' } }]),
      'ClientException',
      'Specify only one of host, dockerVolumeConfiguration',
    );
    expectApiError(
      () => normaliseVolumes([{ name: 'v', configuredAtLaunch: true, efsVolumeConfiguration: { fileSystemId: 'fs-1' } }]),
      'ClientException',
      'configuredAtLaunch',
    );
  });

  it('allows at most one volume configured at launch', () => {
    normaliseVolumes([{ name: 'a', configuredAtLaunch: true }]);
    expectApiError(
      () => normaliseVolumes([{ name: 'a', configuredAtLaunch: true }, { name: 'b', configuredAtLaunch: true }]),
      'ClientException',
      'Only one volume in a task definition can be configured at launch.',
    );
  });

  it('enforces the documented EFS rules', () => {
    const efs = (cfg: object) => normaliseVolumes([{ name: 'e', efsVolumeConfiguration: { fileSystemId: 'fs-1', ...cfg } }]);
    efs({ transitEncryption: 'ENABLED', authorizationConfig: { iam: 'ENABLED', accessPointId: 'fsap-1' }, rootDirectory: '/' });
    expectApiError(() => efs({ authorizationConfig: { iam: 'ENABLED' } }), 'ClientException', 'Transit encryption must be enabled when IAM authorization is used.');
    expectApiError(() => efs({ authorizationConfig: { accessPointId: 'fsap-1' } }), 'ClientException', 'Transit encryption must be enabled when an access point is used.');
    expectApiError(
      () => efs({ transitEncryption: 'ENABLED', authorizationConfig: { accessPointId: 'fsap-1' }, rootDirectory: '/data' }),
      'ClientException',
      "The root directory must be omitted or '/'",
    );
    expectApiError(() => efs({ transitEncryptionPort: 70000 }), 'ClientException', "'transitEncryptionPort' must be between 1 and 65535");
    expectApiError(() => normaliseVolumes([{ name: 'e', efsVolumeConfiguration: { fileSystemId: '' } }]), 'ClientException', "'fileSystemId' is required");
  });
});
