import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ApiError } from '../../domain/errors.js';
import { errorNamesOf, loadServiceModel, modelPath, validateInput } from './model.js';
import type { ServiceModel } from './model.js';

const ecs = loadServiceModel(modelPath('ecs'));
const ecr = loadServiceModel(modelPath('ecr'));

function registerTaskDefinitionBody(): Record<string, unknown> {
  return {
    family: 'web',
    taskRoleArn: 'arn:aws:iam::123456789012:role/web-task',
    executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
    networkMode: 'bridge',
    requiresCompatibilities: ['EC2'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      {
        name: 'app',
        image: 'nginx:1.27',
        cpu: 128,
        memory: 256,
        memoryReservation: 128,
        essential: true,
        command: ['nginx', '-g', 'daemon off;'],
        entryPoint: ['/docker-entrypoint.sh'],
        environment: [{ name: 'MODE', value: 'production' }, { name: 'PORT', value: '80' }],
        portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp', name: 'http', appProtocol: 'http' }],
        mountPoints: [{ sourceVolume: 'data', containerPath: '/data', readOnly: false }],
        secrets: [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:ssm:eu-west-1:123456789012:parameter/db' }],
        dependsOn: [{ containerName: 'sidecar', condition: 'START' }],
        healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], interval: 30, timeout: 5, retries: 3, startPeriod: 10 },
        ulimits: [{ name: 'nofile', softLimit: 65536, hardLimit: 65536 }],
        dockerLabels: { 'com.example.team': 'web', tier: 'frontend' },
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web', 'awslogs-region': 'eu-west-1' } },
        linuxParameters: { initProcessEnabled: true, capabilities: { add: ['SYS_PTRACE'], drop: ['NET_RAW'] } },
        stopTimeout: 30,
        readonlyRootFilesystem: false,
        user: '1000:1000',
        workingDirectory: '/srv',
      },
      {
        name: 'sidecar',
        image: 'busybox',
        memory: 64,
        essential: false,
        command: ['sh', '-c', 'sleep infinity'],
        volumesFrom: [{ sourceContainer: 'app', readOnly: true }],
      },
    ],
    volumes: [{ name: 'data', host: { sourcePath: '/var/lib/web' } }],
    placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.os-type == linux' }],
    runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
    tags: [{ key: 'team', value: 'web' }, { key: 'env', value: 'prod' }],
  };
}

/** Runs `fn`, expecting an ApiError with `code`; returns its message. */
function rejects(fn: () => void, code: string): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.status, 400);
    return err.message;
  }
  assert.fail(`expected ${code}, but validation passed`);
}

function rtd(mutate: (body: Record<string, unknown>, c0: Record<string, unknown>) => void): Record<string, unknown> {
  const body = registerTaskDefinitionBody();
  const c0 = (body['containerDefinitions'] as Record<string, unknown>[])[0] as Record<string, unknown>;
  mutate(body, c0);
  return body;
}

const ser = (model: ServiceModel, op: string, input: unknown): string => rejects(() => validateInput(model, op, input), 'SerializationException');
const inval = (model: ServiceModel, op: string, input: unknown): string => rejects(() => validateInput(model, op, input), 'InvalidParameterException');

test('model metadata and operations', () => {
  assert.equal(ecs.targetPrefix, 'AmazonEC2ContainerServiceV20141113');
  assert.equal(ecs.signingName, 'ecs');
  assert.equal(ecr.targetPrefix, 'AmazonEC2ContainerRegistry_V20150921');
  assert.equal(ecr.signingName, 'ecr');
  assert.ok(ecs.operations.has('RegisterTaskDefinition'));
  assert.ok(ecr.operations.has('CreateRepository'));
  assert.ok(!ecs.operations.has('CreateRepository'));
  assert.equal(loadServiceModel(modelPath('ecs')), ecs, 'cached per path');
  assert.ok(errorNamesOf(ecs, 'DescribeClusters').includes('InvalidParameterException'));
  assert.ok(errorNamesOf(ecr, 'CreateRepository').includes('RepositoryAlreadyExistsException'));
  assert.deepEqual(errorNamesOf(ecs, 'NoSuchOperation'), []);
});

test('valid inputs pass', () => {
  validateInput(ecs, 'RegisterTaskDefinition', registerTaskDefinitionBody());
  validateInput(ecs, 'ListClusters', {});
  validateInput(ecs, 'ListClusters', { maxResults: 10, nextToken: 'abc' });
  validateInput(ecs, 'RunTask', {
    cluster: 'default',
    taskDefinition: 'web:3',
    count: 2,
    launchType: 'EC2',
    startedBy: 'ci',
    enableExecuteCommand: false,
    clientToken: '7f1e4d2a-2b0c-4a8e-9b35-0c7f3e1f9a11',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
    overrides: {
      cpu: '512',
      memory: '1GB',
      containerOverrides: [
        { name: 'app', command: ['npm', 'run', 'migrate'], environment: [{ name: 'STEP', value: 'migrate' }], cpu: 256, memory: 512 },
      ],
    },
    placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
    tags: [{ key: 'job', value: 'migrate' }],
  });
  validateInput(ecs, 'DescribeTasks', { cluster: 'default', tasks: ['arn:aws:ecs:eu-west-1:123456789012:task/default/abc'], include: ['TAGS'] });
});

test('body that is not a JSON object is a SerializationException', () => {
  for (const body of [null, [], 'x', 3, true]) {
    assert.match(ser(ecs, 'ListClusters', body), /Expected a JSON object as the request body/);
  }
});

test('type mismatches name the path and the expected and actual types', () => {
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['image'] = 42; })),
    "Expected a string at 'containerDefinitions[0].image', got a number (42).",
  );
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['memory'] = '512'; })),
    "Expected an integer at 'containerDefinitions[0].memory', got a string.",
  );
  // top-level memory is a string in the model, so the converse mistake is caught too
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((b) => { b['memory'] = 512; })),
    "Expected a string at 'memory', got a number (512).",
  );
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((b) => { b['containerDefinitions'] = { name: 'app', image: 'nginx' }; })),
    "Expected a list at 'containerDefinitions', got an object.",
  );
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((b) => { b['family'] = ['web']; })),
    "Expected a string at 'family', got a list.",
  );
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['essential'] = 'true'; })),
    "Expected a boolean at 'containerDefinitions[0].essential', got a string.",
  );
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['cpu'] = 1.5; })),
    "Expected an integer at 'containerDefinitions[0].cpu', got a number (1.5).",
  );
  assert.match(
    ser(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['memory'] = 3_000_000_000; })),
    /^Expected an integer at 'containerDefinitions\[0\]\.memory', got a number \(3000000000\), outside the 32-bit range -2147483648 to 2147483647\.$/,
  );
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['portMappings'] = [{ containerPort: 80 }, { containerPort: '81' }]; })),
    "Expected an integer at 'containerDefinitions[0].portMappings[1].containerPort', got a string.",
  );
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['logConfiguration'] = { logDriver: 'awslogs', options: { 'awslogs-group': 7 } }; })),
    "Expected a string at 'containerDefinitions[0].logConfiguration.options[\"awslogs-group\"]', got a number (7).",
  );
  assert.equal(
    ser(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['dockerLabels'] = ['a=b']; })),
    "Expected an object (map) at 'containerDefinitions[0].dockerLabels', got a list.",
  );
  assert.equal(
    ser(ecs, 'RunTask', { taskDefinition: 'web', overrides: [] }),
    "Expected an object (structure) at 'overrides', got a list.",
  );
});

test('long, double, timestamp and blob types', () => {
  const upload = { repositoryName: 'web', uploadId: '0f8a6a1e-4a43-4a55-8d51-2b8f9c1d2e3f' };
  // ECR PartSize is a long: safe integers pass, beyond 2^53 does not
  validateInput(ecr, 'UploadLayerPart', { ...upload, partFirstByte: 5_000_000_000, partLastByte: 5_000_000_100, layerPartBlob: 'aGVsbG8=' });
  assert.match(
    ser(ecr, 'UploadLayerPart', { ...upload, partFirstByte: 2 ** 60, partLastByte: 1, layerPartBlob: 'aGVsbG8=' }),
    /^Expected a long integer at 'partFirstByte', .*outside the exactly representable range/,
  );
  assert.equal(
    ser(ecr, 'UploadLayerPart', { ...upload, partFirstByte: 0, partLastByte: 1, layerPartBlob: 'not base64!' }),
    "Expected a base64-encoded string at 'layerPartBlob', got invalid base64.",
  );
  // ECS Timestamp via SubmitTaskStateChange.pullStartedAt: epoch seconds or ISO-8601
  validateInput(ecs, 'SubmitTaskStateChange', { pullStartedAt: 1_700_000_000.5 });
  validateInput(ecs, 'SubmitTaskStateChange', { pullStartedAt: '2024-01-02T03:04:05Z' });
  assert.equal(
    ser(ecs, 'SubmitTaskStateChange', { pullStartedAt: 'yesterday' }),
    "Expected a timestamp (epoch seconds or ISO-8601) at 'pullStartedAt', got the string 'yesterday'.",
  );
  assert.equal(
    ser(ecs, 'SubmitTaskStateChange', { pullStartedAt: true }),
    "Expected a timestamp (epoch seconds) at 'pullStartedAt', got a boolean (true).",
  );
  // DaemonDrainPercent is a double with a 0..100 range
  const daemon = (drainPercent: unknown) => ({ daemonName: 'd', daemonTaskDefinitionArn: 'td', capacityProviderArns: ['cp'], deploymentConfiguration: { drainPercent } });
  validateInput(ecs, 'CreateDaemon', daemon(12.5));
  assert.match(inval(ecs, 'CreateDaemon', daemon(100.5)), /Value '100\.5' at 'deploymentConfiguration\.drainPercent' failed to satisfy constraint: Member must have value less than or equal to 100/);
  assert.match(inval(ecs, 'CreateDaemon', daemon('Infinity')), /Member must have value less than or equal to 100/);
  assert.equal(ser(ecs, 'CreateDaemon', daemon('50')), "Expected a number at 'deploymentConfiguration.drainPercent', got a string.");
});

test('missing required members: top level and nested, aggregated in AWS wording', () => {
  assert.equal(
    inval(ecs, 'RegisterTaskDefinition', rtd((b) => { delete b['family']; })),
    "1 validation error detected: Value null at 'family' failed to satisfy constraint: Member must not be null",
  );
  assert.equal(
    inval(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['logConfiguration'] = { options: {} }; })),
    "1 validation error detected: Value null at 'containerDefinitions[0].logConfiguration.logDriver' failed to satisfy constraint: Member must not be null",
  );
  const msg = inval(ecs, 'RegisterTaskDefinition', { networkMode: 'bogus' });
  assert.match(msg, /^3 validation errors detected: /);
  assert.match(msg, /Value 'bogus' at 'networkMode' failed to satisfy constraint: Member must satisfy enum value set: \[bridge, host, awsvpc, none\]/);
  assert.match(msg, /Value null at 'family' failed to satisfy constraint: Member must not be null/);
  assert.match(msg, /Value null at 'containerDefinitions' failed to satisfy constraint: Member must not be null/);
  assert.match(
    inval(ecs, 'RunTask', { taskDefinition: 'web', networkConfiguration: { awsvpcConfiguration: {} } }),
    /Value null at 'networkConfiguration\.awsvpcConfiguration\.subnets' failed to satisfy constraint: Member must not be null/,
  );
});

test('enum, length, range and pattern constraints', () => {
  assert.equal(
    inval(ecs, 'RegisterTaskDefinition', rtd((b) => { b['networkMode'] = 'bogus'; })),
    "1 validation error detected: Value 'bogus' at 'networkMode' failed to satisfy constraint: Member must satisfy enum value set: [bridge, host, awsvpc, none]",
  );
  assert.match(
    inval(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['portMappings'] = [{ containerPort: 80, protocol: 'sctp' }]; })),
    /Value 'sctp' at 'containerDefinitions\[0\]\.portMappings\[0\]\.protocol' failed to satisfy constraint: Member must satisfy enum value set: \[tcp, udp\]/,
  );
  // LogDriver: the model names eight drivers; ECS also takes 'none' on EC2 (ENUM_VALUES_THE_MODEL_OMITS).
  validateInput(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['logConfiguration'] = { logDriver: 'none' }; }));
  assert.match(
    inval(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['logConfiguration'] = { logDriver: 'nothing' }; })),
    /Value 'nothing' at 'containerDefinitions\[0\]\.logConfiguration\.logDriver' failed to satisfy constraint: Member must satisfy enum value set: \[json-file, syslog, journald, gelf, fluentd, awslogs, splunk, awsfirelens, none\]/,
  );
  // Tags: list max 50, TagKey length 1..128 with a \p{L} pattern (needs the u flag), TagValue length 0..256
  const tags = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
  assert.match(inval(ecs, 'TagResource', { resourceArn: 'arn', tags }), /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/);
  validateInput(ecs, 'TagResource', { resourceArn: 'arn', tags: [{ key: 'Größe café', value: 'ünïcode 値' }] });
  const msg = inval(ecs, 'TagResource', { resourceArn: 'arn', tags: [{ key: '', value: 'x'.repeat(257) }, { key: 'bad#key', value: 'ok' }] });
  assert.match(msg, /^3 validation errors detected: /);
  assert.match(msg, /Value '' at 'tags\[0\]\.key' failed to satisfy constraint: Member must have length greater than or equal to 1/);
  assert.match(msg, /at 'tags\[0\]\.value' failed to satisfy constraint: Member must have length less than or equal to 256/);
  assert.match(msg, /Value 'bad#key' at 'tags\[1\]\.key' failed to satisfy constraint: Member must satisfy regular expression pattern: /);
  // integer range (CapacityProviderStrategyItemWeight is 0..1000)
  assert.match(
    inval(ecs, 'RunTask', { taskDefinition: 'web', capacityProviderStrategy: [{ capacityProvider: 'cp', weight: 1001 }] }),
    /Value '1001' at 'capacityProviderStrategy\[0\]\.weight' failed to satisfy constraint: Member must have value less than or equal to 1000/,
  );
  // patterns match the whole value, as Java's Matcher.matches() does
  assert.match(inval(ecr, 'CreateRepository', { repositoryName: 'UPPER' }), /at 'repositoryName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
});

test('null members are treated as absent; unknown members are ignored', () => {
  validateInput(ecs, 'RegisterTaskDefinition', rtd((b, c0) => {
    b['taskRoleArn'] = null;
    b['volumes'] = null;
    c0['healthCheck'] = null;
    c0['memory'] = null;
  }));
  assert.match(inval(ecs, 'RegisterTaskDefinition', rtd((b) => { b['family'] = null; })), /Value null at 'family' failed to satisfy constraint: Member must not be null/);
  validateInput(ecs, 'RegisterTaskDefinition', rtd((b, c0) => {
    b['somethingNew'] = { nested: [1, 2, 3] };
    c0['futureField'] = 42;
    c0['constructor'] = 'not a problem';
  }));
  validateInput(ecs, 'ListClusters', JSON.parse('{"__proto__": {"maxResults": "x"}, "hasOwnProperty": "x", "maxResults": 5}'));
  // nulls inside lists are not absent members: they are reported
  assert.match(
    inval(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['command'] = ['a', null]; })),
    /Value null at 'containerDefinitions\[0\]\.command\[1\]' failed to satisfy constraint: Member must not be null/,
  );
});

test('a flood of violations is counted in full but listed only in part', () => {
  const msg = inval(ecs, 'RegisterTaskDefinition', rtd((_, c0) => { c0['command'] = Array.from({ length: 30 }, () => null); }));
  assert.match(msg, /^30 validation errors detected: /);
  assert.match(msg, /command\[24\]' failed to satisfy constraint: Member must not be null; and 5 more$/);
});

test('unknown operations are left to the router', () => {
  validateInput(ecs, 'NoSuchOperation', 'anything');
});

test('ECR model validates CreateRepository', () => {
  validateInput(ecr, 'CreateRepository', {
    repositoryName: 'team/web-app',
    imageTagMutability: 'IMMUTABLE',
    imageScanningConfiguration: { scanOnPush: true },
    encryptionConfiguration: { encryptionType: 'AES256' },
    tags: [{ Key: 'team', Value: 'web' }],
  });
  assert.equal(
    inval(ecr, 'CreateRepository', {}),
    "1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null",
  );
  assert.equal(
    inval(ecr, 'CreateRepository', { repositoryName: 'web', imageTagMutability: 'SOMETIMES' }).split(': Member')[0],
    "1 validation error detected: Value 'SOMETIMES' at 'imageTagMutability' failed to satisfy constraint",
  );
  assert.equal(
    ser(ecr, 'CreateRepository', { repositoryName: 'web', imageScanningConfiguration: { scanOnPush: 'yes' } }),
    "Expected a boolean at 'imageScanningConfiguration.scanOnPush', got a string.",
  );
});

test('the validation exception is a parameter of the model', () => {
  const custom = loadServiceModel(modelPath('ecr'), { validationError: (m) => new ApiError('ValidationException', m) });
  assert.notEqual(custom, ecr);
  assert.match(rejects(() => validateInput(custom, 'CreateRepository', {}), 'ValidationException'), /repositoryName/);
  assert.match(inval(ecr, 'CreateRepository', {}), /repositoryName/);
});

test('recursive shapes compile and validate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-model-'));
  try {
    const path = join(dir, 'tree.json');
    writeFileSync(path, JSON.stringify({
      metadata: { targetPrefix: 'Tree_1', signingName: 'tree' },
      operations: { Put: { name: 'Put', input: { shape: 'Node' }, errors: [{ shape: 'Bad' }] } },
      shapes: {
        Node: { type: 'structure', required: ['name'], members: { name: { shape: 'Name' }, label: { shape: 'Label' }, children: { shape: 'Nodes' } } },
        // Java-only syntax that JS rejects: the pattern is skipped rather than failing the model
        Label: { type: 'string', pattern: '\\p{javaLowerCase}+' },
        Nodes: { type: 'list', member: { shape: 'Node' } },
        Name: { type: 'string', min: 1 },
        Bad: { type: 'structure', members: {}, exception: true },
      },
    }));
    const tree = loadServiceModel(path);
    validateInput(tree, 'Put', { name: 'a', label: 'ANY', children: [{ name: 'b', children: [{ name: 'c' }] }] });
    assert.equal(
      rejects(() => validateInput(tree, 'Put', { name: 'a', children: [{ name: 'b', children: [{ children: [] }] }] }), 'ValidationException'),
      "1 validation error detected: Value null at 'children[0].children[0].name' failed to satisfy constraint: Member must not be null",
    );
    assert.equal(
      rejects(() => validateInput(tree, 'Put', { name: 'a', children: [{ name: 1 }] }), 'SerializationException'),
      "Expected a string at 'children[0].name', got a number (1).",
    );
    assert.deepEqual(errorNamesOf(tree, 'Put'), ['Bad']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every operation accepts an empty body or reports only missing required members', () => {
  for (const model of [ecs, ecr]) {
    for (const op of model.operations) {
      try {
        validateInput(model, op, {});
      } catch (err) {
        assert.ok(err instanceof ApiError && err.code === 'InvalidParameterException', `${op}: ${String(err)}`);
        assert.match(err.message, /^\d+ validation errors? detected: Value null at '\w+' failed to satisfy constraint: Member must not be null/, op);
      }
    }
  }
});

test('throughput (informational)', (t) => {
  const body = registerTaskDefinitionBody();
  const n = 20_000;
  validateInput(ecs, 'RegisterTaskDefinition', body);
  const start = performance.now();
  for (let i = 0; i < n; i++) validateInput(ecs, 'RegisterTaskDefinition', body);
  const ms = performance.now() - start;
  t.diagnostic(`${n} RegisterTaskDefinition validations in ${ms.toFixed(1)} ms: ${Math.round((n / ms) * 1000)} validations/s`);
});
