import { describe, it } from 'node:test';
import type { Volume } from '@aws-sdk/client-ecs';
import type { EffectiveNetworkMode, NormalisedContainerDefinition } from './model.js';
import type { ReferenceScope } from './references.js';
import { assertReferences } from './references.js';
import { expectApiError, stubContainer } from './testing.js';

const container = stubContainer;

function scope(containers: NormalisedContainerDefinition[], extra: Partial<ReferenceScope> = {}): ReferenceScope {
  return { containers, volumes: [] as Volume[], networkMode: 'bridge' as EffectiveNetworkMode, ...extra };
}

describe('mountPoints and volumesFrom', () => {
  it('a mount point must name a task volume', () => {
    const app = container('app', { mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] });
    assertReferences(scope([app], { volumes: [{ name: 'data' }] }));
    expectApiError(() => assertReferences(scope([app])), 'ClientException', "The source volume 'data' is not defined in the task definition's volumes.");
  });

  it('volumesFrom must name another container of the task', () => {
    const app = container('app', { volumesFrom: [{ sourceContainer: 'data' }] });
    assertReferences(scope([app, container('data')]));
    expectApiError(() => assertReferences(scope([app])), 'ClientException', "The source container 'data' must be another container");
    const self = container('app', { volumesFrom: [{ sourceContainer: 'app' }] });
    expectApiError(() => assertReferences(scope([self])), 'ClientException', "Invalid 'volumesFrom' setting for container 'app'");
  });
});

describe('links', () => {
  it('must name another container, with an optional alias', () => {
    assertReferences(scope([container('web', { links: ['db:database', 'cache'] }), container('db'), container('cache')]));
    expectApiError(() => assertReferences(scope([container('web', { links: ['db'] })])), 'ClientException', "Invalid link 'db' in container 'web'");
    expectApiError(() => assertReferences(scope([container('web', { links: ['web:self'] })])), 'ClientException', "Invalid link 'web:self'");
  });
});

describe('dependsOn', () => {
  it('must name an existing container (ECS wording)', () => {
    const app = container('app', { dependsOn: [{ containerName: 'init', condition: 'START' }] });
    expectApiError(() => assertReferences(scope([app])), 'ClientException', "Cannot depend on container + 'init' because it does not exist");
  });

  it('COMPLETE and SUCCESS are not allowed on an essential dependency', () => {
    for (const condition of ['COMPLETE', 'SUCCESS'] as const) {
      const app = container('app', { dependsOn: [{ containerName: 'init', condition }] });
      assertReferences(scope([app, container('init', { essential: false })]));
      expectApiError(
        () => assertReferences(scope([app, container('init')])),
        'ClientException',
        'A dependency container with SUCCESS or COMPLETE condition cannot be an essential container',
      );
    }
  });

  it('HEALTHY requires a health check on the dependency', () => {
    const app = container('app', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] });
    assertReferences(scope([app, container('db', { healthCheck: { command: ['CMD', 'true'], interval: 30, timeout: 5, retries: 3 } })]));
    expectApiError(() => assertReferences(scope([app, container('db')])), 'ClientException', "A dependency container with HEALTHY condition must have a health check configured: container 'db'");
  });

  it('rejects cycles, including self-dependencies, and names the cycle', () => {
    const a = container('a', { dependsOn: [{ containerName: 'b', condition: 'START' }] });
    const b = container('b', { dependsOn: [{ containerName: 'c', condition: 'START' }] });
    const c = container('c', { dependsOn: [{ containerName: 'a', condition: 'START' }] });
    expectApiError(() => assertReferences(scope([a, b, c])), 'ClientException', 'form a cycle: a -> b -> c -> a.');
    const self = container('s', { dependsOn: [{ containerName: 's', condition: 'START' }] });
    expectApiError(() => assertReferences(scope([self])), 'ClientException', 'form a cycle: s -> s.');
  });

  it('accepts a diamond (shared dependency is not a cycle)', () => {
    const start = (containerName: string) => ({ containerName, condition: 'START' as const });
    assertReferences(scope([container('top', { dependsOn: [start('l'), start('r')] }), container('l', { dependsOn: [start('base')] }), container('r', { dependsOn: [start('base')] }), container('base')]));
  });
});

describe('FireLens pairing', () => {
  const router = container('log_router', { firelensConfiguration: { type: 'fluentbit' } });
  const user = container('app', { logConfiguration: { logDriver: 'awsfirelens' } });

  it('accepts one router with at least one awsfirelens user', () => {
    assertReferences(scope([router, user]));
  });

  it('rejects a router without users and users without a router (ECS wording)', () => {
    expectApiError(() => assertReferences(scope([router])), 'ClientException', 'When a firelensConfiguration object is specified, at least one container has to be configured with the awsfirelens log driver.');
    expectApiError(() => assertReferences(scope([user])), 'ClientException', 'When awsfirelens log driver is specified in log configuration, a firelens configuration object must be configured in one of the containers.');
  });

  it('rejects two routers', () => {
    const second = container('router2', { firelensConfiguration: { type: 'fluentd' } });
    expectApiError(() => assertReferences(scope([router, second, user])), 'ClientException', 'Only one container in a task definition can have a firelensConfiguration');
  });
});

describe('proxyConfiguration and inference accelerators', () => {
  it('the App Mesh proxy must be a container of an awsvpc task', () => {
    const envoy = container('envoy');
    assertReferences(scope([envoy], { networkMode: 'awsvpc', proxyConfiguration: { type: 'APPMESH', containerName: 'envoy' } }));
    expectApiError(() => assertReferences(scope([envoy], { networkMode: 'awsvpc', proxyConfiguration: { containerName: 'proxy' } })), 'ClientException', "The proxy container 'proxy' does not exist");
    expectApiError(() => assertReferences(scope([envoy], { proxyConfiguration: { containerName: 'envoy' } })), 'ClientException', 'A proxy configuration requires networkMode=awsvpc.');
  });

  it('an InferenceAccelerator requirement must name a declared device, and device names are unique', () => {
    const app = container('app', { resourceRequirements: [{ type: 'InferenceAccelerator', value: 'dev1' }] });
    assertReferences(scope([app], { inferenceAccelerators: [{ deviceName: 'dev1', deviceType: 'eia2.medium' }] }));
    expectApiError(() => assertReferences(scope([app])), 'ClientException', "No inference accelerator named 'dev1'");
    expectApiError(
      () => assertReferences(scope([app], { inferenceAccelerators: [{ deviceName: 'dev1', deviceType: 'a' }, { deviceName: 'dev1', deviceType: 'b' }] })),
      'ClientException',
      "Device name 'dev1' is used more than once",
    );
  });
});
