/**
 * The AWS JSON 1.1 front door end to end: SigV4 checks (raw requests signed with the real SDK signer, and the JS
 * SDK), protocol errors, response headers and timestamp encoding. Every refused request is a write whose effect is
 * looked for afterwards: a refused request must change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateClusterCommand, DescribeClustersCommand, ListClustersCommand, ListTaskDefinitionFamiliesCommand } from '@aws-sdk/client-ecs';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, aws, boto3, startGantry } from '../testing/harness.js';
import type { GantryProcess } from '../testing/harness.js';
import { sendRaw, sendSigned, signJsonRequest } from '../testing/signer.js';
import type { RawResponse, SignInput, SignedRequest } from '../testing/signer.js';
import {
  ECS_TARGET_PREFIX,
  assertBotoError,
  assertCliError,
  assertEpochSecondsNow,
  assertSdkError,
  sdkClient,
  sdkError,
  sorted,
} from './support.js';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MINUTE = 60_000;

let g: GantryProcess;
let sdk: ECSClient;
before(async () => {
  g = await startGantry();
  sdk = sdkClient(g.url);
});
after(async () => {
  sdk?.destroy();
  await g?.stop();
});

function sign(op: string, body: string, o: Partial<SignInput> = {}): Promise<SignedRequest> {
  return signJsonRequest({
    url: g.url,
    target: `${ECS_TARGET_PREFIX}.${op}`,
    body,
    service: 'ecs',
    region: REGION,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    ...o,
  });
}

function header(r: RawResponse, name: string): string | undefined {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The response's Date header is present and within a couple of seconds of our clock (it has 1 s resolution). */
function assertAccurateDate(r: RawResponse): void {
  const date = header(r, 'date');
  assert.ok(date, 'Date header missing');
  const ms = Date.parse(date);
  assert.ok(Number.isFinite(ms), `unparseable Date header ${date}`);
  assert.ok(Math.abs(ms - Date.now()) <= 2_500, `Date header ${date} is off by ${ms - Date.now()} ms`);
}

/** Every AWS JSON response: 2xx/4xx with the content type, a request id and an accurate Date. */
function assertCommonHeaders(r: RawResponse): void {
  assert.equal(header(r, 'content-type'), CONTENT_TYPE);
  assert.match(header(r, 'x-amzn-requestid') ?? '', UUID);
  assertAccurateDate(r);
}

function assertRawError(r: RawResponse, code: string, message?: RegExp, status = 400): void {
  assert.equal(r.status, status, `status for ${code}: ${r.text}`);
  assertCommonHeaders(r);
  assert.equal(header(r, 'x-amzn-errortype'), code, r.text);
  assert.ok(r.json && typeof r.json === 'object', `error body is not JSON: ${r.text}`);
  assert.equal(r.json.__type, code);
  assert.ok(!String(r.json.__type).includes(':'), '__type must not contain a colon');
  assert.equal(typeof r.json.message, 'string');
  if (message) assert.match(r.json.message, message);
}

const createBody = (name: string) => JSON.stringify({ clusterName: name });

/** Cluster names that refused requests tried to create. */
const refusedClusters: string[] = [];
/** Families that refused registrations tried to create. */
const refusedFamilies: string[] = [];

describe('SigV4', () => {
  test('a correctly signed request succeeds, with the standard response headers', async () => {
    const a = await sendSigned(await sign('ListClusters', '{}'));
    assert.equal(a.status, 200, a.text);
    assertCommonHeaders(a);
    assert.equal(header(a, 'x-amzn-errortype'), undefined);
    assert.deepEqual(a.json, { clusterArns: [] });
    // CLI/boto3-style signing (no x-amz-content-sha256) is accepted too, and request ids are unique.
    const b = await sendSigned(await sign('ListClusters', '{}', { applyChecksum: false }));
    assert.equal(b.status, 200, b.text);
    assert.notEqual(header(a, 'x-amzn-requestid'), header(b, 'x-amzn-requestid'));
    // An empty body is an empty input.
    const c = await sendSigned(await sign('ListClusters', ''));
    assert.equal(c.status, 200, c.text);
    // Within the 5 minute window, skew is fine.
    for (const skew of [-4 * MINUTE, 4 * MINUTE]) {
      const r = await sendSigned(await sign('ListClusters', '{}', { date: new Date(Date.now() + skew) }));
      assert.equal(r.status, 200, `skew ${skew / MINUTE} min: ${r.text}`);
    }
  });

  test('refusals: each exception, and nothing is created', async () => {
    const cases: { name: string; code: string; message?: RegExp; send: (cluster: string) => Promise<RawResponse> }[] = [
      {
        name: 'bad signature',
        code: 'InvalidSignatureException',
        message: /signature we calculated does not match/,
        send: async (n) => {
          const req = await sign('CreateCluster', createBody(n));
          const auth = req.headers['authorization']!;
          const last = auth.at(-1) === '0' ? '1' : '0';
          return sendRaw(req.url, { ...req.headers, authorization: auth.slice(0, -1) + last }, req.body);
        },
      },
      {
        name: 'unknown access key id',
        code: 'UnrecognizedClientException',
        message: /security token included in the request is invalid/,
        send: async (n) => sendSigned(await sign('CreateCluster', createBody(n), { accessKeyId: 'AKIAUNKNOWNKEY000001' })),
      },
      {
        name: 'wrong secret for a known key id',
        code: 'InvalidSignatureException',
        message: /signature we calculated does not match/,
        send: async (n) => sendSigned(await sign('CreateCluster', createBody(n), { secretAccessKey: 'not-the-secret' })),
      },
      {
        name: 'no Authorization header',
        code: 'MissingAuthenticationTokenException',
        send: async (n) => {
          const req = await sign('CreateCluster', createBody(n));
          const { authorization: _, ...headers } = req.headers;
          return sendRaw(req.url, headers, req.body);
        },
      },
      {
        name: 'no signature at all',
        code: 'MissingAuthenticationTokenException',
        send: (n) => sendRaw(g.url, { 'content-type': CONTENT_TYPE, 'x-amz-target': `${ECS_TARGET_PREFIX}.CreateCluster` }, createBody(n)),
      },
      {
        name: 'no X-Amz-Date header',
        code: 'IncompleteSignatureException',
        message: /X-Amz-Date/,
        send: async (n) => {
          const req = await sign('CreateCluster', createBody(n));
          const { 'x-amz-date': _, ...headers } = req.headers;
          return sendRaw(req.url, headers, req.body);
        },
      },
      {
        name: 'Authorization header without SignedHeaders and Signature',
        code: 'IncompleteSignatureException',
        message: /Signature/,
        send: async (n) => {
          const req = await sign('CreateCluster', createBody(n));
          const credential = /Credential=[^,]+/.exec(req.headers['authorization']!)![0];
          return sendRaw(req.url, { ...req.headers, authorization: `AWS4-HMAC-SHA256 ${credential}` }, req.body);
        },
      },
      {
        name: 'clock 10 minutes behind',
        code: 'InvalidSignatureException',
        message: /Signature expired/,
        send: async (n) => sendSigned(await sign('CreateCluster', createBody(n), { date: new Date(Date.now() - 10 * MINUTE) })),
      },
      {
        name: 'clock 10 minutes ahead',
        code: 'InvalidSignatureException',
        message: /Signature not yet current/,
        send: async (n) => sendSigned(await sign('CreateCluster', createBody(n), { date: new Date(Date.now() + 10 * MINUTE) })),
      },
      {
        name: 'wrong region in the scope',
        code: 'InvalidSignatureException',
        message: /region/,
        send: async (n) => sendSigned(await sign('CreateCluster', createBody(n), { region: 'us-east-1' })),
      },
      {
        name: 'wrong service in the scope',
        code: 'InvalidSignatureException',
        message: /service/,
        send: async (n) => sendSigned(await sign('CreateCluster', createBody(n), { service: 'ecr' })),
      },
      {
        name: 'body changed after signing (x-amz-content-sha256 signed, as the JS SDK does)',
        code: 'InvalidSignatureException',
        send: async (n) => {
          const req = await sign('CreateCluster', createBody('innocent-' + n));
          assert.ok(req.headers['x-amz-content-sha256']);
          return sendRaw(req.url, req.headers, createBody(n));
        },
      },
      {
        name: 'body changed after signing (no content hash header, as the CLI and boto3 sign)',
        code: 'InvalidSignatureException',
        message: /signature we calculated does not match/,
        send: async (n) => {
          const req = await sign('CreateCluster', createBody('innocent-' + n), { applyChecksum: false });
          assert.equal(req.headers['x-amz-content-sha256'], undefined);
          return sendRaw(req.url, req.headers, createBody(n));
        },
      },
      {
        name: 'operation changed after signing (X-Amz-Target is signed)',
        code: 'InvalidSignatureException',
        message: /signature we calculated does not match/,
        send: async (n) => {
          const req = await sign('ListClusters', createBody(n));
          return sendRaw(req.url, { ...req.headers, 'x-amz-target': `${ECS_TARGET_PREFIX}.CreateCluster` }, req.body);
        },
      },
    ];
    for (const [i, c] of cases.entries()) {
      const name = `refused-${i}`;
      refusedClusters.push(name, `innocent-${name}`);
      const r = await c.send(name);
      try {
        assertRawError(r, c.code, c.message);
      } catch (e) {
        (e as Error).message = `[${c.name}] ${(e as Error).message}`;
        throw e;
      }
    }
    const d = await sdk.send(new DescribeClustersCommand({ clusters: refusedClusters }));
    assert.deepEqual(d.clusters, [], 'a refused CreateCluster created a cluster');
    assert.deepEqual((await sdk.send(new ListClustersCommand({}))).clusterArns, []);
  });

  test('the JS SDK corrects its clock from the Date header of a skew refusal', async () => {
    // Clock 10 minutes behind: the SDK treats "Signature expired" as transient, takes the server's time from the
    // Date header and retries at once, so the call succeeds. A write, so the retry is seen to happen exactly once.
    const behind = sdkClient(g.url, { systemClockOffset: -10 * MINUTE });
    try {
      const out = await behind.send(new CreateClusterCommand({ clusterName: 'skewed-behind' }));
      assert.equal(out.cluster!.status, 'ACTIVE');
      assert.equal(out.$metadata.attempts, 2, 'one refused attempt, one retry');
      assert.ok(Math.abs(behind.config.systemClockOffset) < 5_000, `offset after correction: ${behind.config.systemClockOffset} ms`);
      assert.equal((await behind.send(new ListClustersCommand({}))).$metadata.attempts, 1);
    } finally {
      behind.destroy();
    }
    // Clock 10 minutes ahead: this SDK retries a "not yet current" refusal only when the corrected offset itself is
    // over 4 minutes (a machine clock really off); an artificial offset is corrected to ~0, so the call fails once,
    // changes nothing, and the next call is signed with the server's time and succeeds at the first attempt.
    const ahead = sdkClient(g.url, { systemClockOffset: 10 * MINUTE });
    try {
      const e = await sdkError(ahead, 'CreateCluster', { clusterName: 'skewed-ahead' });
      assertSdkError(e, { op: 'CreateCluster', code: 'InvalidSignatureException', message: /Signature not yet current/ });
      assert.ok(Math.abs(ahead.config.systemClockOffset) < 5_000, `offset after correction: ${ahead.config.systemClockOffset} ms`);
      assert.deepEqual((await sdk.send(new DescribeClustersCommand({ clusters: ['skewed-ahead'] }))).clusters, []);
      const out = await ahead.send(new CreateClusterCommand({ clusterName: 'skewed-ahead' }));
      assert.equal(out.cluster!.status, 'ACTIVE');
      assert.equal(out.$metadata.attempts, 1);
    } finally {
      ahead.destroy();
    }
    const listed = (await sdk.send(new ListClustersCommand({}))).clusterArns!;
    assert.equal(listed.length, 2, JSON.stringify(listed));
  });

  test('the JS SDK surfaces authentication failures by name', async () => {
    const cases = [
      { config: { credentials: { accessKeyId: 'AKIAUNKNOWNKEY000001', secretAccessKey: SECRET_ACCESS_KEY } }, code: 'UnrecognizedClientException' },
      { config: { credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: 'wrong' } }, code: 'InvalidSignatureException' },
      { config: { region: 'us-east-1' }, code: 'InvalidSignatureException' },
    ];
    for (const [i, c] of cases.entries()) {
      const client = sdkClient(g.url, c.config);
      try {
        const name = `sdk-refused-${i}`;
        refusedClusters.push(name);
        const e = await sdkError(client, 'CreateCluster', { clusterName: name });
        assertSdkError(e, { op: 'CreateCluster', code: c.code });
        assert.equal(e.$metadata.attempts, 1, 'not retried');
      } finally {
        client.destroy();
      }
    }
    assert.deepEqual((await sdk.send(new DescribeClustersCommand({ clusters: refusedClusters }))).clusters, []);
  });
});

describe('AWS JSON protocol', () => {
  test('malformed and non-object JSON bodies are SerializationException', async () => {
    for (const [body, message] of [
      ['{"clusterName": "half', /not valid JSON/],
      ['{"family": "x", "containerDefinitions": [}', /not valid JSON/],
      ['[]', /Expected a JSON object/],
      ['"CreateCluster"', /Expected a JSON object/],
    ] as const) {
      const r = await sendSigned(await sign('CreateCluster', body));
      assertRawError(r, 'SerializationException', message);
    }
  });

  test('wrong JSON types from the JS SDK (which does not validate) are SerializationException naming the member', async () => {
    const container = { name: 'app', image: 'nginx', memory: 128 };
    const cases: { op: string; params: object; path: string; family?: string }[] = [
      { op: 'RegisterTaskDefinition', family: 'types-1', params: { family: 'types-1', containerDefinitions: [{ ...container, memory: 'lots' }] }, path: 'containerDefinitions[0].memory' },
      { op: 'RegisterTaskDefinition', family: 'types-2', params: { family: 'types-2', containerDefinitions: 'app' }, path: 'containerDefinitions' },
      { op: 'RegisterTaskDefinition', family: 'types-3', params: { family: 'types-3', memory: 512, containerDefinitions: [container] }, path: 'memory' },
      {
        op: 'RegisterTaskDefinition',
        family: 'types-4',
        params: { family: 'types-4', containerDefinitions: [container, { ...container, name: 'b', essential: 'yes' }] },
        path: 'containerDefinitions[1].essential',
      },
      {
        op: 'RegisterTaskDefinition',
        family: 'types-5',
        params: { family: 'types-5', containerDefinitions: [{ ...container, portMappings: [{ containerPort: '80' }] }] },
        path: 'containerDefinitions[0].portMappings[0].containerPort',
      },
      { op: 'RegisterTaskDefinition', params: { family: 42, containerDefinitions: [container] }, path: 'family' },
      { op: 'CreateCluster', params: { clusterName: 'types-cluster', tags: { team: 'a' } }, path: 'tags' },
      { op: 'DescribeClusters', params: { clusters: 'default' }, path: 'clusters' },
      { op: 'ListClusters', params: { maxResults: '10' }, path: 'maxResults' },
    ];
    refusedClusters.push('types-cluster');
    for (const c of cases) {
      if (c.family) refusedFamilies.push(c.family);
      const e = await sdkError(sdk, c.op, c.params);
      assertSdkError(e, { op: c.op, code: 'SerializationException' });
      assert.ok(e.message.includes(`'${c.path}'`), `${c.op}: message should name '${c.path}': ${e.message}`);
    }
    assert.deepEqual((await sdk.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: 'types-' }))).families, []);
    assert.deepEqual((await sdk.send(new DescribeClustersCommand({ clusters: ['types-cluster'] }))).clusters, []);
  });

  test('an unknown operation is UnknownOperationException naming it', async () => {
    const r = await sendSigned(await sign('FrobnicateClusters', '{}'));
    assertRawError(r, 'UnknownOperationException', /FrobnicateClusters/);
    const other = await signJsonRequest({
      url: g.url,
      target: 'AmazonEC2ContainerServiceV20991231.ListClusters',
      body: '{}',
      service: 'ecs',
      region: REGION,
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
    });
    assertRawError(await sendSigned(other), 'UnknownOperationException', /AmazonEC2ContainerServiceV20991231/);
  });

  test('a modelled operation Gantry does not implement is UnsupportedFeatureException naming it, in every client', async () => {
    const body = { name: 'cp', autoScalingGroupProvider: { autoScalingGroupArn: 'arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:x' } };
    const raw = await sendSigned(await sign('CreateCapacityProvider', JSON.stringify(body)));
    assertRawError(raw, 'UnsupportedFeatureException', /CreateCapacityProvider/);
    const expected = { op: 'CreateCapacityProvider', code: 'UnsupportedFeatureException', message: /CreateCapacityProvider/ };
    assertSdkError(await sdkError(sdk, 'CreateCapacityProvider', body), expected);
    assertCliError(
      aws(g.url, ['ecs', 'create-capacity-provider', '--name', 'cp', '--auto-scaling-group-provider', `autoScalingGroupArn=${body.autoScalingGroupProvider.autoScalingGroupArn}`]),
      expected,
    );
    assertBotoError(boto3(g.url, [{ service: 'ecs', op: 'CreateCapacityProvider', params: body }])[0]!, expected);
  });

  test('timestamps are epoch seconds as JSON numbers', async () => {
    const reg = await sendSigned(
      await sign('RegisterTaskDefinition', JSON.stringify({ family: 'stamps', containerDefinitions: [{ name: 'a', image: 'nginx', memory: 64 }] })),
    );
    assert.equal(reg.status, 200, reg.text);
    assertCommonHeaders(reg);
    assertEpochSecondsNow(reg.json.taskDefinition.registeredAt, 'registeredAt');
    assert.match(reg.text, /"registeredAt":\d+(\.\d+)?[,}]/, 'a bare JSON number');
    const dereg = await sendSigned(await sign('DeregisterTaskDefinition', JSON.stringify({ taskDefinition: 'stamps:1' })));
    assert.equal(dereg.status, 200, dereg.text);
    assertEpochSecondsNow(dereg.json.taskDefinition.deregisteredAt, 'deregisteredAt');
    assert.ok(dereg.json.taskDefinition.deregisteredAt >= reg.json.taskDefinition.registeredAt);
  });

  test('no refused request left anything behind', async () => {
    const d = await sdk.send(new DescribeClustersCommand({ clusters: refusedClusters }));
    assert.deepEqual(d.clusters, []);
    assert.equal(d.failures!.length, refusedClusters.length);
    assert.deepEqual(sorted((await sdk.send(new ListClustersCommand({}))).clusterArns!.map((a) => a.split('/')[1]!)), ['skewed-ahead', 'skewed-behind']);
    const families = (await sdk.send(new ListTaskDefinitionFamiliesCommand({}))).families!;
    for (const f of refusedFamilies) assert.ok(!families.includes(f), `refused family ${f} exists`);
  });
});
