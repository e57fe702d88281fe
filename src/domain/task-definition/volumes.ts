/**
 * Task-level data volumes: names, the one-kind-per-volume rule and the documented EFS constraints
 * ([BC Volume], [BC EFSVolumeConfiguration], [BC EFSAuthorizationConfig]). Whether a volume kind is allowed on a
 * launch type is decided in launch-types.ts; whether containers reference real volumes in references.ts.
 *
 * Echo: ECS returns `configuredAtLaunch: false` on every volume that does not set it (the API default that
 * Terraform had to learn to expect: hashicorp/terraform-provider-aws PR #46132).
 */
import type { Volume } from '@aws-sdk/client-ecs';
import { NAME_PATTERN } from '../arn.js';
import { Ecs } from '../errors.js';
import { cloneWire } from './model.js';

const KINDS = ['host', 'dockerVolumeConfiguration', 'efsVolumeConfiguration', 's3filesVolumeConfiguration', 'fsxWindowsFileServerVolumeConfiguration'] as const;

export function normaliseVolumes(volumes: readonly Volume[] | undefined): Volume[] {
  const out = (volumes ?? []).map(normaliseVolume);
  const seen = new Set<string>();
  for (const v of out) {
    const name = v.name ?? '';
    if (seen.has(name)) throw Ecs.client(`Volume names must be unique within a Task Definition; '${name}' is used more than once.`);
    seen.add(name);
  }
  // [BC Volume.configuredAtLaunch]: "Each task definition revision may only have one volume configured at launch".
  if (out.filter((v) => v.configuredAtLaunch === true).length > 1) {
    throw Ecs.client('Only one volume in a task definition can be configured at launch.');
  }
  return out;
}

function normaliseVolume(input: Volume): Volume {
  const v = cloneWire(input);
  const name = v.name ?? '';
  // Every kind of volume is referenced by name from mountPoints; the model makes the name required for EFS,
  // S3 Files and configured-at-launch volumes, and a nameless host volume could never be mounted.
  if (!NAME_PATTERN.test(name)) {
    throw Ecs.client(
      name === ''
        ? 'Volume.name should not be null or empty.'
        : `Invalid volume name '${name}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
    );
  }
  // [BC Volume]: "Each volume … may only specify a name and one of either configuredAtLaunch,
  // dockerVolumeConfiguration, efsVolumeConfiguration, s3filesVolumeConfiguration, fsxWindowsFileServerVolumeConfiguration, or host."
  const kinds: string[] = KINDS.filter((k) => v[k] !== undefined);
  if (v.configuredAtLaunch === true) kinds.push('configuredAtLaunch');
  if (kinds.length > 1) throw Ecs.client(`Invalid volume '${name}'. Specify only one of ${kinds.join(', ')}.`);
  checkEfs(name, v);
  return { ...v, configuredAtLaunch: v.configuredAtLaunch ?? false };
}

function checkEfs(name: string, v: Volume): void {
  const efs = v.efsVolumeConfiguration;
  if (efs === undefined) return;
  const prefix = `Invalid 'efsVolumeConfiguration' for volume '${name}'.`;
  if (!efs.fileSystemId) throw Ecs.client(`${prefix} 'fileSystemId' is required.`);
  const auth = efs.authorizationConfig;
  const encrypted = efs.transitEncryption === 'ENABLED';
  if (auth?.iam === 'ENABLED' && !encrypted) {
    throw Ecs.client(`${prefix} Transit encryption must be enabled when IAM authorization is used.`);
  }
  if (auth?.accessPointId !== undefined) {
    if (!encrypted) throw Ecs.client(`${prefix} Transit encryption must be enabled when an access point is used.`);
    if (efs.rootDirectory !== undefined && efs.rootDirectory !== '/') {
      throw Ecs.client(`${prefix} The root directory must be omitted or '/' when an access point is used.`);
    }
  }
  if (efs.transitEncryptionPort !== undefined && (efs.transitEncryptionPort < 1 || efs.transitEncryptionPort > 65535)) {
    throw Ecs.client(`${prefix} 'transitEncryptionPort' must be between 1 and 65535.`);
  }
}
