import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerDefinition } from '@aws-sdk/client-ecs';
import type { TaskDefinitionRecord } from '../records.js';
import type { NormaliseContext, RegisterTaskDefinitionInput } from './model.js';
import { expectApiError } from './testing.js';
import { normaliseTaskDefinition } from './validate.js';

const ctx: NormaliseContext = { accountId: '123456789012', region: 'eu-west-1', registeredBy: 'arn:aws:iam::123456789012:user/dev' };
const app: ContainerDefinition = { name: 'app', image: 'nginx:1.27', memory: 256 };

const register = (patch: Partial<RegisterTaskDefinitionInput> = {}, context: NormaliseContext = ctx) =>
  normaliseTaskDefinition({ family: 'web', containerDefinitions: [app], ...patch }, context);

/** A Fargate request that passes every rule; tests change one thing. */
const fargate = (patch: Partial<RegisterTaskDefinitionInput> = {}) =>
  register({ requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions: [{ name: 'app', image: 'nginx' }], ...patch });

describe('minimal definition', () => {
  it('stores what ECS returns for the smallest EC2 definition', () => {
    assert.deepEqual(register(), {
      containerDefinitions: [
        { name: 'app', image: 'nginx:1.27', memory: 256, cpu: 0, essential: true, portMappings: [], environment: [], mountPoints: [], volumesFrom: [], systemControls: [] },
      ],
      family: 'web',
      volumes: [],
      placementConstraints: [],
      registeredBy: 'arn:aws:iam::123456789012:user/dev',
      requiresAttributes: [],
      compatibilities: ['EXTERNAL', 'EC2'],
      tags: [],
    });
  });

  it('leaves networkMode, requiresCompatibilities, cpu, memory and registeredBy absent when not given', () => {
    const out = register({}, { accountId: '123456789012', region: 'eu-west-1' });
    for (const key of ['networkMode', 'requiresCompatibilities', 'cpu', 'memory', 'registeredBy', 'taskRoleArn', 'pidMode']) {
      assert.ok(!(key in out), `${key} should be absent`);
    }
  });

  it('does not alias the request', () => {
    const input: RegisterTaskDefinitionInput = { family: 'web', containerDefinitions: [{ ...app, environment: [{ name: 'A', value: '1' }] }] };
    const out = normaliseTaskDefinition(input, ctx);
    out.containerDefinitions[0]?.environment.push({ name: 'B', value: '2' });
    assert.equal(input.containerDefinitions?.[0]?.environment?.length, 1);
  });
});

describe('ECS-SEMANTICS 9.2', () => {
  it('"1 vCPU" / "2GB" are stored as "1024" / "2048"', () => {
    const out = register({ cpu: '1 vCPU', memory: '2GB' });
    assert.equal(out.cpu, '1024');
    assert.equal(out.memory, '2048');
  });

  it('FARGATE with 256 CPU and 4096 MiB is a ClientException "No Fargate configuration exists for given values"', () => {
    expectApiError(() => fargate({ cpu: '256', memory: '4096' }), 'ClientException', 'No Fargate configuration exists for given values');
    expectApiError(() => fargate({ cpu: '.25 vCPU', memory: '4 GB' }), 'ClientException', '256 CPU, 4096 memory');
  });
});

describe('family', () => {
  it('is required and follows the name pattern', () => {
    expectApiError(() => register({ family: '' }), 'ClientException', 'Family can not be blank.');
    expectApiError(() => register({ family: undefined }), 'ClientException', 'Family can not be blank.');
    expectApiError(() => register({ family: 'web app' }), 'ClientException', "Invalid family 'web app'");
    expectApiError(() => register({ family: 'web:1' }), 'ClientException', 'Up to 255 letters');
    expectApiError(() => register({ family: 'f'.repeat(256) }), 'ClientException', 'Invalid family');
    assert.equal(register({ family: 'f'.repeat(255) }).family.length, 255);
  });
});

describe('containers', () => {
  it('needs at least one and at most ten', () => {
    expectApiError(() => register({ containerDefinitions: [] }), 'ClientException', 'Container list cannot be empty.');
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ ...app, name: `c${i}` }));
    assert.equal(register({ containerDefinitions: many(10) }).containerDefinitions.length, 10);
    expectApiError(() => register({ containerDefinitions: many(11) }), 'ClientException', 'Too many containers.');
  });

  it('names must be unique (ECS wording)', () => {
    expectApiError(() => register({ containerDefinitions: [app, { ...app }] }), 'ClientException', 'Container names must be unique within a Task Definition.');
  });

  it('at least one must be essential; essential defaults to true', () => {
    expectApiError(
      () => register({ containerDefinitions: [{ ...app, essential: false }] }),
      'ClientException',
      "Task definition doesn't have any essential container.",
    );
    const out = register({ containerDefinitions: [{ ...app, essential: false }, { ...app, name: 'sidecar' }] });
    assert.deepEqual(out.containerDefinitions.map((c) => c.essential), [false, true]);
  });

  it('container rules run in the pipeline (memory without task memory)', () => {
    expectApiError(
      () => register({ containerDefinitions: [{ name: 'app', image: 'nginx' }] }),
      'ClientException',
      "Invalid setting for container 'app'. At least one of 'memory' or 'memoryReservation' must be specified.",
    );
    assert.equal(register({ memory: '512', containerDefinitions: [{ name: 'app', image: 'nginx' }] }).memory, '512');
  });
});

describe('task size', () => {
  it('rejects malformed task cpu and memory', () => {
    expectApiError(() => register({ cpu: '1 core' }), 'ClientException', "Invalid 'cpu' setting for task.");
    expectApiError(() => register({ memory: '1 TB' }), 'ClientException', "Invalid 'memory' setting for task.");
  });

  it('container cpu must fit the task cpu (ECS wording)', () => {
    expectApiError(
      () => register({ cpu: '256', containerDefinitions: [{ ...app, cpu: 200 }, { ...app, name: 'b', cpu: 100 }] }),
      'ClientException',
      "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.",
    );
    register({ cpu: '256', containerDefinitions: [{ ...app, cpu: 128 }, { ...app, name: 'b', cpu: 128 }] });
  });

  it('container reservations must fit the task memory (memoryReservation, else memory)', () => {
    expectApiError(
      () => register({ memory: '512', containerDefinitions: [{ ...app, memory: 512, memoryReservation: 300 }, { ...app, name: 'b', memory: 300 }] }),
      'ClientException',
      "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'.",
    );
    register({ memory: '512', containerDefinitions: [{ ...app, memory: 512, memoryReservation: 200 }, { ...app, name: 'b', memory: 300 }] });
  });
});

describe('networking', () => {
  it('default bridge: dynamic host ports stored as 0, networkMode left absent', () => {
    const out = register({ containerDefinitions: [{ ...app, portMappings: [{ containerPort: 80 }] }] });
    assert.deepEqual(out.containerDefinitions[0]?.portMappings, [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }]);
    assert.ok(!('networkMode' in out));
  });

  it('awsvpc: host port mirrors the container port; mismatches are rejected', () => {
    const out = register({ networkMode: 'awsvpc', containerDefinitions: [{ ...app, portMappings: [{ containerPort: 8080 }] }] });
    assert.deepEqual(out.containerDefinitions[0]?.portMappings, [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }]);
    expectApiError(
      () => register({ networkMode: 'awsvpc', containerDefinitions: [{ ...app, portMappings: [{ containerPort: 80, hostPort: 81 }] }] }),
      'ClientException',
      'When networkMode=awsvpc, the host ports and container ports in port mappings must match.',
    );
  });

  it('none: no port mappings', () => {
    expectApiError(() => register({ networkMode: 'none', containerDefinitions: [{ ...app, portMappings: [{ containerPort: 80 }] }] }), 'ClientException', 'networkMode=none');
  });

  it('port clashes across containers are rejected', () => {
    const web = { ...app, portMappings: [{ containerPort: 80, hostPort: 80 }] };
    expectApiError(() => register({ containerDefinitions: [web, { ...web, name: 'b' }] }), 'ClientException', 'Host port 80/tcp is mapped by both');
  });

  it('links only in bridge mode, and to containers of the task', () => {
    const db = { ...app, name: 'db' };
    register({ containerDefinitions: [{ ...app, links: ['db:database'] }, db] });
    expectApiError(() => register({ networkMode: 'awsvpc', containerDefinitions: [{ ...app, links: ['db'] }, db] }), 'ClientException', 'Links are not supported when networkMode=awsvpc.');
    expectApiError(() => register({ containerDefinitions: [{ ...app, links: ['cache'] }, db] }), 'ClientException', "Invalid link 'cache'");
  });

  it('hostname is not allowed with awsvpc', () => {
    expectApiError(() => register({ networkMode: 'awsvpc', containerDefinitions: [{ ...app, hostname: 'web' }] }), 'ClientException', 'Hostname is not supported');
  });
});

describe('volumes and references', () => {
  it('mount points must name a task volume; volume names are unique', () => {
    const mounting = { ...app, mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] };
    const out = register({ volumes: [{ name: 'data', host: { sourcePath: '/srv/data' } }], containerDefinitions: [mounting] });
    assert.deepEqual(out.volumes, [{ name: 'data', host: { sourcePath: '/srv/data' }, configuredAtLaunch: false }]);
    expectApiError(() => register({ containerDefinitions: [mounting] }), 'ClientException', "The source volume 'data' is not defined");
    expectApiError(() => register({ volumes: [{ name: 'data' }, { name: 'data' }], containerDefinitions: [mounting] }), 'ClientException', 'Volume names must be unique');
  });

  it('volumesFrom source must exist', () => {
    expectApiError(() => register({ containerDefinitions: [{ ...app, volumesFrom: [{ sourceContainer: 'data' }] }] }), 'ClientException', "The source container 'data'");
  });

  it('dependsOn: target exists, COMPLETE/SUCCESS not on essential, no cycles', () => {
    const init: ContainerDefinition = { ...app, name: 'init', essential: false };
    const out = register({ containerDefinitions: [{ ...app, dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }, init] });
    assert.deepEqual(out.containerDefinitions[0]?.dependsOn, [{ containerName: 'init', condition: 'SUCCESS' }]);
    expectApiError(() => register({ containerDefinitions: [{ ...app, dependsOn: [{ containerName: 'nope', condition: 'START' }] }] }), 'ClientException', "Cannot depend on container + 'nope' because it does not exist");
    expectApiError(
      () => register({ containerDefinitions: [{ ...app, dependsOn: [{ containerName: 'init', condition: 'COMPLETE' }] }, { ...init, essential: true }] }),
      'ClientException',
      'A dependency container with SUCCESS or COMPLETE condition cannot be an essential container',
    );
    expectApiError(
      () =>
        register({
          containerDefinitions: [
            { ...app, dependsOn: [{ containerName: 'init', condition: 'START' }] },
            { ...init, dependsOn: [{ containerName: 'app', condition: 'START' }] },
          ],
        }),
      'ClientException',
      'form a cycle: app -> init -> app.',
    );
  });
});

describe('placement constraints', () => {
  it('only memberOf with an expression, at most 10', () => {
    const memberOf = { type: 'memberOf' as const, expression: 'attribute:ecs.instance-type =~ t3.*' };
    assert.deepEqual(register({ placementConstraints: [memberOf] }).placementConstraints, [memberOf]);
    register({ placementConstraints: Array(10).fill(memberOf) });
    expectApiError(() => register({ placementConstraints: Array(11).fill(memberOf) }), 'ClientException', 'Too many placement constraints.');
    expectApiError(() => register({ placementConstraints: [{ expression: 'attribute:a == b' }] }), 'ClientException', "only the 'memberOf' constraint type");
    expectApiError(() => register({ placementConstraints: [{ type: 'memberOf' }] }), 'ClientException', 'requires an expression');
    expectApiError(() => register({ placementConstraints: [{ type: 'memberOf', expression: 'x'.repeat(2001) }] }), 'ClientException', 'at most 2000 characters');
  });
});

describe('ephemeral storage', () => {
  it('is 21–200 GiB and only for definitions that require FARGATE', () => {
    assert.deepEqual(fargate({ ephemeralStorage: { sizeInGiB: 21 } }).ephemeralStorage, { sizeInGiB: 21 });
    fargate({ ephemeralStorage: { sizeInGiB: 200 } });
    expectApiError(() => fargate({ ephemeralStorage: { sizeInGiB: 20 } }), 'ClientException', "'sizeInGiB' must be between 21 and 200");
    expectApiError(() => fargate({ ephemeralStorage: { sizeInGiB: 201 } }), 'ClientException', "'sizeInGiB' must be between 21 and 200");
    expectApiError(() => register({ ephemeralStorage: { sizeInGiB: 30 } }), 'ClientException', 'only supported for task definitions that require FARGATE');
  });
});

describe('runtime platform', () => {
  const windows = { runtimePlatform: { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' as const } };
  it('is echoed as given', () => {
    assert.deepEqual(fargate({ runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' } }).runtimePlatform, { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' });
  });

  it('Windows: X86_64 only, default or awsvpc network mode, no pid/ipc modes', () => {
    register(windows);
    expectApiError(() => register({ runtimePlatform: { ...windows.runtimePlatform, cpuArchitecture: 'ARM64' } }), 'ClientException', 'do not support the ARM64 CPU architecture');
    expectApiError(() => register({ ...windows, networkMode: 'host' }), 'ClientException', 'Windows containers do not support networkMode=host');
    expectApiError(() => register({ ...windows, pidMode: 'task' }), 'ClientException', "'pidMode' parameter is not supported for Windows");
    expectApiError(() => register({ ...windows, ipcMode: 'none' }), 'ClientException', "'ipcMode' parameter is not supported for Windows");
  });

  it('Windows on Fargate needs at least 1 vCPU', () => {
    expectApiError(() => fargate({ ...windows }), 'ClientException', 'No Fargate configuration exists for given values: 256 CPU, 512 memory.');
    assert.deepEqual(fargate({ ...windows, cpu: '1 vCPU', memory: '2 GB' }).compatibilities, ['EC2', 'FARGATE']);
  });
});

describe('requiresCompatibilities and compatibilities', () => {
  it('FARGATE requires awsvpc, task cpu and task memory', () => {
    expectApiError(() => fargate({ networkMode: undefined }), 'ClientException', "Fargate only supports network mode 'awsvpc'.");
    expectApiError(() => fargate({ cpu: undefined }), 'ClientException', "Fargate requires that 'cpu' be defined at the task level.");
    expectApiError(() => fargate({ memory: undefined, containerDefinitions: [app] }), 'ClientException', "Fargate requires that 'memory' be defined at the task level.");
  });

  it('FARGATE rejects the parameters it does not support', () => {
    expectApiError(() => fargate({ containerDefinitions: [{ name: 'app', image: 'nginx', privileged: true }] }), 'ClientException', "Fargate does not support 'privileged'");
    expectApiError(() => fargate({ ipcMode: 'task' }), 'ClientException', "Fargate does not support 'ipcMode'.");
    expectApiError(() => fargate({ placementConstraints: [{ type: 'memberOf', expression: 'attribute:a == b' }] }), 'ClientException', "Fargate does not support 'placementConstraints'.");
  });

  it('a valid Fargate definition is EC2 and FARGATE compatible and echoes requiresCompatibilities', () => {
    const out = fargate();
    assert.deepEqual(out.compatibilities, ['EC2', 'FARGATE']);
    assert.deepEqual(out.requiresCompatibilities, ['FARGATE']);
    assert.deepEqual(out.requiresAttributes, [{ name: 'ecs.capability.task-eni' }]);
  });

  it('FARGATE is listed without being required when the definition qualifies, and not otherwise', () => {
    const base = { networkMode: 'awsvpc' as const, cpu: '512', memory: '1024' };
    assert.deepEqual(register(base).compatibilities, ['EC2', 'FARGATE']);
    assert.deepEqual(register({ ...base, memory: '8192' }).compatibilities, ['EC2']);
    assert.deepEqual(register({ networkMode: 'awsvpc' }).compatibilities, ['EC2']);
  });

  it('EXTERNAL cannot be required with awsvpc; MANAGED_INSTANCES is not served', () => {
    expectApiError(() => register({ networkMode: 'awsvpc', requiresCompatibilities: ['EXTERNAL'] }), 'ClientException', 'EXTERNAL launch type does not support networkMode=awsvpc');
    expectApiError(() => register({ requiresCompatibilities: ['MANAGED_INSTANCES'] }), 'UnsupportedFeatureException', 'MANAGED_INSTANCES');
  });
});

describe('roles and tags', () => {
  it('expands role names to ARNs in the caller account and partition; keeps ARNs', () => {
    const out = register({ taskRoleArn: 'appRole', executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole' });
    assert.equal(out.taskRoleArn, 'arn:aws:iam::123456789012:role/appRole');
    assert.equal(out.executionRoleArn, 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole');
    assert.equal(register({ taskRoleArn: 'svc/appRole' }, { accountId: '210987654321', region: 'cn-north-1' }).taskRoleArn, 'arn:aws-cn:iam::210987654321:role/svc/appRole');
  });

  it('tags are validated and returned beside the definition', () => {
    assert.deepEqual(register({ tags: [{ key: 'team', value: 'core' }] }).tags, [{ key: 'team', value: 'core' }]);
    expectApiError(() => register({ tags: [] }), 'ClientException', 'Tags can not be empty.');
    expectApiError(() => register({ tags: [{ key: 'aws:x', value: 'y' }] }), 'InvalidParameterException', "'aws:' prefix is reserved");
  });
});

describe('round trip: realistic multi-container Fargate service', () => {
  const image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop-api@sha256:' + 'c0ffee'.repeat(10) + 'beef';
  const request: RegisterTaskDefinitionInput = {
    family: 'shop-api',
    taskRoleArn: 'shop-api-task',
    executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '1 vCPU',
    memory: '2 GB',
    runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
    volumes: [{ name: 'tmp', host: {} }],
    tags: [{ key: 'service', value: 'shop' }],
    containerDefinitions: [
      {
        name: 'api',
        image,
        cpu: 768,
        memoryReservation: 1536,
        portMappings: [{ containerPort: 8080, name: 'http', appProtocol: 'http' }],
        environment: [{ name: 'PORT', value: '8080' }],
        secrets: [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf' }],
        mountPoints: [{ sourceVolume: 'tmp', containerPath: '/tmp' }],
        healthCheck: { command: ['CMD-SHELL', 'curl -fs http://localhost:8080/health || exit 1'], startPeriod: 20 },
        dependsOn: [{ containerName: 'migrate', condition: 'SUCCESS' }, { containerName: 'log_router', condition: 'START' }],
        logConfiguration: { logDriver: 'awsfirelens', options: { Name: 'cloudwatch_logs', region: 'eu-west-1' } },
        stopTimeout: 60,
      },
      {
        name: 'migrate',
        image,
        essential: false,
        command: ['migrate', 'up'],
        memory: 256,
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/shop', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'migrate' } },
      },
      {
        name: 'log_router',
        image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
        cpu: 64,
        memoryReservation: 64,
        firelensConfiguration: { type: 'fluentbit', options: { 'enable-ecs-log-metadata': 'true' } },
        user: '0',
      },
    ],
  };

  it('produces the stored definition ECS would return', () => {
    const out = normaliseTaskDefinition(request, ctx);
    assert.deepEqual(out, {
      containerDefinitions: [
        {
          name: 'api',
          image,
          cpu: 768,
          memoryReservation: 1536,
          portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp', name: 'http', appProtocol: 'http' }],
          essential: true,
          environment: [{ name: 'PORT', value: '8080' }],
          secrets: [{ name: 'DB_PASSWORD', valueFrom: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf' }],
          mountPoints: [{ sourceVolume: 'tmp', containerPath: '/tmp' }],
          volumesFrom: [],
          healthCheck: { command: ['CMD-SHELL', 'curl -fs http://localhost:8080/health || exit 1'], startPeriod: 20, interval: 30, timeout: 5, retries: 3 },
          dependsOn: [{ containerName: 'migrate', condition: 'SUCCESS' }, { containerName: 'log_router', condition: 'START' }],
          logConfiguration: { logDriver: 'awsfirelens', options: { Name: 'cloudwatch_logs', region: 'eu-west-1' } },
          stopTimeout: 60,
          systemControls: [],
        },
        {
          name: 'migrate',
          image,
          cpu: 0,
          essential: false,
          command: ['migrate', 'up'],
          memory: 256,
          portMappings: [],
          environment: [],
          mountPoints: [],
          volumesFrom: [],
          systemControls: [],
          logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/shop', 'awslogs-region': 'eu-west-1', 'awslogs-stream-prefix': 'migrate' } },
        },
        {
          name: 'log_router',
          image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
          cpu: 64,
          memoryReservation: 64,
          essential: true,
          portMappings: [],
          environment: [],
          mountPoints: [],
          volumesFrom: [],
          systemControls: [],
          firelensConfiguration: { type: 'fluentbit', options: { 'enable-ecs-log-metadata': 'true' } },
          user: '0',
        },
      ],
      family: 'shop-api',
      taskRoleArn: 'arn:aws:iam::123456789012:role/shop-api-task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
      networkMode: 'awsvpc',
      volumes: [{ name: 'tmp', host: {}, configuredAtLaunch: false }],
      placementConstraints: [],
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      registeredBy: 'arn:aws:iam::123456789012:user/dev',
      requiresAttributes: [
        { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' },
        { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.19' },
        { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.29' },
        { name: 'com.amazonaws.ecs.capability.ecr-auth' },
        { name: 'com.amazonaws.ecs.capability.logging-driver.awsfirelens' },
        { name: 'com.amazonaws.ecs.capability.logging-driver.awslogs' },
        { name: 'com.amazonaws.ecs.capability.task-iam-role' },
        { name: 'ecs.capability.container-health-check' },
        { name: 'ecs.capability.container-ordering' },
        { name: 'ecs.capability.execution-role-awslogs' },
        { name: 'ecs.capability.execution-role-ecr-pull' },
        { name: 'ecs.capability.firelens.fluentbit' },
        { name: 'ecs.capability.secrets.asm.environment-variables' },
        { name: 'ecs.capability.task-eni' },
      ],
      compatibilities: ['EC2', 'FARGATE'],
      tags: [{ key: 'service', value: 'shop' }],
    });
  });

  it('is stable: registering the stored definition again yields the same definition', () => {
    const first = normaliseTaskDefinition(request, ctx);
    const { requiresAttributes: _a, compatibilities: _c, registeredBy: _r, tags, ...asRequest } = first;
    const second = normaliseTaskDefinition({ ...asRequest, tags }, ctx);
    assert.deepEqual(second, first);
  });

  it('becomes a store record once the caller adds ARN, revision, status and registeredAt', () => {
    const out = normaliseTaskDefinition(request, ctx);
    const record: TaskDefinitionRecord = {
      ...out,
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-api:1',
      revision: 1,
      status: 'ACTIVE',
      registeredAt: 1_700_000_000,
    };
    assert.equal(record.containerDefinitions?.length, 3);
  });

  it('survives a JSON round trip unchanged (wire-safe: no undefined, no Dates)', () => {
    const out = normaliseTaskDefinition(request, ctx);
    assert.deepEqual(JSON.parse(JSON.stringify(out)), out);
  });
});
