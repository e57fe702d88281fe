/** The registry's pure parts: repository policies, lifecycle rules, manifests, tokens, ranges. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateLifecycle, LifecyclePolicyError, parseLifecyclePolicy } from './lifecycle.js';
import { ManifestError, MediaType, parseManifest } from './manifest.js';
import { parseRange } from './oci-route.js';
import { evaluatePolicy, parsePolicy, PolicyError } from './policy.js';
import { RegistryTokens, TokenError } from './tokens.js';

const ROOT = 'arn:aws:iam::111122223333:root';
const USER = 'arn:aws:iam::111122223333:user/ci';
const OTHER = 'arn:aws:iam::999999999999:user/x';

describe('repository policies', () => {
  const policy = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'pull', Effect: 'Allow', Principal: { AWS: USER }, Action: ['ecr:BatchGetImage', 'ecr:GetDownload*'] },
        { Effect: 'Deny', Principal: '*', Action: 'ecr:Put*' },
        { Effect: 'Allow', Principal: { AWS: '111122223333' }, Action: 'ecr:ListImages' },
        { Effect: 'Allow', NotPrincipal: { AWS: OTHER }, NotAction: ['ecr:*Image*', 'ecr:*Layer*'] },
      ],
    }),
  );
  test('Allow and Deny with wildcards, principals by ARN and by account, NotPrincipal/NotAction', () => {
    assert.equal(evaluatePolicy(policy, USER, 'ecr:BatchGetImage'), 'allow');
    assert.equal(evaluatePolicy(policy, USER, 'ecr:getdownloadurlforlayer'), 'allow', 'actions are case-insensitive');
    assert.equal(evaluatePolicy(policy, USER, 'ecr:BatchDeleteImage'), 'none');
    assert.equal(evaluatePolicy(policy, ROOT, 'ecr:PutImage'), 'deny', 'an explicit deny applies to root too');
    assert.equal(evaluatePolicy(policy, USER, 'ecr:ListImages'), 'allow', 'an account names all its principals');
    assert.equal(evaluatePolicy(policy, OTHER, 'ecr:ListImages'), 'none');
    assert.equal(evaluatePolicy(policy, USER, 'ecr:DescribeRepositories'), 'allow');
    assert.equal(evaluatePolicy(policy, OTHER, 'ecr:DescribeRepositories'), 'none');
    assert.equal(evaluatePolicy(policy, USER, 'ecr:DescribeImages'), 'none');
  });
  test('what Gantry cannot evaluate is refused, not ignored', () => {
    for (const bad of [
      '{',
      '{"Statement":[]}',
      '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"a":"b"}}}]}',
      '{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"ecr:*"}]}',
      '{"Statement":[{"Effect":"Allow","Principal":{"Service":"x"},"Action":"ecr:*"}]}',
      '{"Statement":[{"Effect":"Allow","Principal":"*"}]}',
      '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"not an action"}]}',
    ]) {
      assert.throws(() => parsePolicy(bad), PolicyError, bad);
    }
  });
});

describe('lifecycle policies', () => {
  const day = 86_400_000;
  const now = 100 * day;
  const images = [
    { digest: 'sha256:a', tags: ['prod-1'], pushedAtMs: now - 1 * day },
    { digest: 'sha256:b', tags: ['prod-2'], pushedAtMs: now - 2 * day },
    { digest: 'sha256:c', tags: ['prod-3', 'web'], pushedAtMs: now - 3 * day },
    { digest: 'sha256:d', tags: [], pushedAtMs: now - 20 * day },
    { digest: 'sha256:e', tags: [], pushedAtMs: now - 2 * day },
    { digest: 'sha256:f', tags: ['dev'], pushedAtMs: now - 40 * day },
  ];
  const policy = (rules: object[]) => parseLifecyclePolicy(JSON.stringify({ rules }));
  test('imageCountMoreThan keeps the newest; sinceImagePushed expires the old; one rule per image, in priority order', () => {
    const rules = policy([
      { rulePriority: 1, selection: { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
      { rulePriority: 2, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 }, action: { type: 'expire' } },
      { rulePriority: 9, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 3 }, action: { type: 'expire' } },
    ]);
    const expired = evaluateLifecycle(rules, images, now);
    assert.deepEqual(
      [...expired].sort(),
      [
        ['sha256:b', 1],
        ['sha256:c', 1],
        ['sha256:d', 2],
        // 'any' keeps the newest 3 (a, b, e — claimed images still count); f is beyond them and claimed by no rule.
        ['sha256:f', 9],
      ],
    );
  });
  test('an image matched by a higher-priority rule is never expired by a lower one', () => {
    const rules = policy([
      { rulePriority: 1, selection: { tagStatus: 'tagged', tagPatternList: ['prod-*'], countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } },
      { rulePriority: 2, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
    ]);
    const expired = evaluateLifecycle(rules, images, now);
    assert.deepEqual([...expired.keys()].sort(), ['sha256:d', 'sha256:e', 'sha256:f']);
  });
  test('every prefix (or pattern) of the list must be matched by some tag', () => {
    const rules = policy([{ rulePriority: 1, selection: { tagStatus: 'tagged', tagPatternList: ['prod*', 'web'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 }, action: { type: 'expire' } }]);
    assert.deepEqual([...evaluateLifecycle(rules, images, now).keys()], ['sha256:c']);
  });
  test('invalid policies are refused with the reason', () => {
    const bad: object[][] = [
      [{ rulePriority: 1, selection: { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }],
      [{ rulePriority: 1, selection: { tagStatus: 'untagged', tagPrefixList: ['x'], countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }],
      [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'sinceImagePushed', countNumber: 1 }, action: { type: 'expire' } }],
      [{ rulePriority: 0, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }],
      [
        { rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
        { rulePriority: 2, selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
      ],
      [
        { rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } },
        { rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 2 }, action: { type: 'expire' } },
      ],
    ];
    for (const rules of bad) assert.throws(() => policy(rules), LifecyclePolicyError, JSON.stringify(rules));
  });
});

describe('manifests', () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const image = { schemaVersion: 2, mediaType: MediaType.dockerManifest, config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: d('a'), size: 10 }, layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: d('b'), size: 20 }] };
  test('image manifests name their config and layers; foreign layers need not be pushed', () => {
    const p = parseManifest(Buffer.from(JSON.stringify(image)), MediaType.dockerManifest);
    assert.deepEqual(p.requiredBlobs, [d('a'), d('b')]);
    const foreign = { ...image, layers: [...image.layers, { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: d('c'), size: 5, urls: ['https://example.com/x'] }] };
    assert.deepEqual(parseManifest(Buffer.from(JSON.stringify(foreign)), undefined).requiredBlobs, [d('a'), d('b')]);
  });
  test('OCI index and artifact with subject', () => {
    const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: d('d'), size: 100, platform: { os: 'linux', architecture: 'arm64' } }] };
    const p = parseManifest(Buffer.from(JSON.stringify(index)), MediaType.ociIndex);
    assert.equal(p.kind, 'index');
    assert.deepEqual(p.manifests.map((m) => m.digest), [d('d')]);
    const artifact = { schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: 'application/vnd.example.sbom', config: { mediaType: MediaType.ociEmpty, digest: d('e'), size: 2 }, layers: [], subject: { mediaType: MediaType.ociManifest, digest: d('d'), size: 100 } };
    const a = parseManifest(Buffer.from(JSON.stringify(artifact)), undefined);
    assert.equal(a.artifactType, 'application/vnd.example.sbom');
    assert.equal(a.subject?.digest, d('d'));
  });
  test('refusals', () => {
    const cases: [unknown, string | undefined, 'invalid' | 'unsupported'][] = [
      ['not json', undefined, 'invalid'],
      [{ schemaVersion: 1, name: 'x' }, undefined, 'unsupported'],
      [{ ...image, config: { ...image.config, digest: 'sha256:short' } }, undefined, 'invalid'],
      [{ ...image, layers: [{ ...image.layers[0], size: -1 }] }, undefined, 'invalid'],
      [image, MediaType.ociManifest, 'invalid'],
      [{ ...image, mediaType: 'application/vnd.example+json' }, undefined, 'unsupported'],
      [{ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [{ mediaType: MediaType.dockerManifest, digest: d('a'), size: 1 }] }, undefined, 'invalid'],
    ];
    for (const [doc, type, reason] of cases) {
      const bytes = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
      assert.throws(() => parseManifest(bytes, type), (e: unknown) => e instanceof ManifestError && e.reason === reason, JSON.stringify(doc));
    }
  });
});

describe('registry tokens', () => {
  let now = 1_000_000;
  const clock = { now: () => now };
  const tokens = new RegistryTokens({ signingKey: Buffer.alloc(32, 1), clock });
  test('a token verifies until it expires, and is refused when altered or signed with another key', () => {
    const { token } = tokens.issue({ accessKeyId: 'AKIA1', principalArn: ROOT, kind: 'root' });
    assert.ok(!token.includes(':'), 'docker login splits user:password on the first colon');
    assert.equal(tokens.verify(token).principalArn, ROOT);
    const [prefix, payload, sig] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), p: 'arn:aws:iam::111122223333:user/evil' })).toString('base64url');
    assert.throws(() => tokens.verify(`${prefix}.${forged}.${sig}`), TokenError);
    assert.throws(() => new RegistryTokens({ signingKey: Buffer.alloc(32, 2), clock }).verify(token), TokenError);
    assert.throws(() => tokens.verify('garbage'), TokenError);
    now += 12 * 3600 * 1000;
    assert.throws(() => tokens.verify(token), /expired/);
  });
});

describe('Range headers', () => {
  test('single ranges, suffixes, open ends; unsatisfiable ones; several ranges mean the whole blob', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=50-1000', 100), { start: 50, end: 99 });
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-2', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
    assert.equal(parseRange(undefined, 100), undefined);
  });
});
