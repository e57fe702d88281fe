import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApiError } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import { createTestEcs, TEST_ACCOUNT } from './testing.js';
import type { TestEcs } from './testing.js';

const ROOT = `arn:aws:iam::${TEST_ACCOUNT}:root`;
const ALICE = `arn:aws:iam::${TEST_ACCOUNT}:user/alice`;
const BOB = `arn:aws:iam::${TEST_ACCOUNT}:user/team/bob`;
const DEPLOYER = `arn:aws:iam::${TEST_ACCOUNT}:role/deployer`;
const DEPLOYER_SESSION = `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/deployer/ci-run-42`;
const FEDERATED = `arn:aws:sts::${TEST_ACCOUNT}:federated-user/carol`;
const AGENT = `arn:aws:ecs:us-west-2:${TEST_ACCOUNT}:container-instance/default/0123456789abcdef0123456789abcdef`;

/** The model's SettingName enum, in order, with AWS's built-in defaults. */
const BUILT_IN: [string, string][] = [
  ['serviceLongArnFormat', 'enabled'],
  ['taskLongArnFormat', 'enabled'],
  ['containerInstanceLongArnFormat', 'enabled'],
  ['awsvpcTrunking', 'disabled'],
  ['containerInsights', 'disabled'],
  ['fargateFIPSMode', 'disabled'],
  ['tagResourceAuthorization', 'on'],
  ['fargateTaskRetirementWaitPeriod', '7'],
  ['guardDutyActivate', 'off'],
  ['defaultLogDriverMode', 'non-blocking'],
  ['fargateEventWindows', 'disabled'],
];

const setting = (name: string, value: string, principalArn: string, type = 'user') => ({ name, value, principalArn, type });

describe('account settings', () => {
  let ecs: TestEcs;
  beforeEach(async () => {
    ecs = await createTestEcs();
  });
  afterEach(() => ecs.close());

  const as = (principalArn: string) => ecs.as(principalArn);
  const root = () => as(ROOT);
  /** Every page of ListAccountSettings. */
  const listAll = async (caller: ReturnType<typeof as>, input: object = {}) => {
    const out: unknown[] = [];
    let nextToken: string | undefined;
    do {
      const page = await caller.call('ListAccountSettings', { ...input, ...(nextToken ? { nextToken } : {}) });
      out.push(...page.settings);
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  };
  const effective = async (principalArn: string, name: string) =>
    (await root().call('ListAccountSettings', { principalArn, name, effectiveSettings: true })).settings[0];

  it("lists AWS's built-in defaults as the effective settings, in the model's order, 10 to a page", async () => {
    const first = await root().call('ListAccountSettings', { effectiveSettings: true });
    assert.equal(first.settings.length, 10);
    assert.equal(typeof first.nextToken, 'string');
    const second = await root().call('ListAccountSettings', { effectiveSettings: true, nextToken: first.nextToken });
    assert.equal(second.nextToken, undefined);
    assert.deepEqual(
      [...first.settings, ...second.settings],
      BUILT_IN.map(([name, value]) => setting(name, value, ROOT, name === 'guardDutyActivate' ? 'aws_managed' : 'user')),
    );
  });

  it('lists nothing without effectiveSettings until something is set', async () => {
    assert.deepEqual(await root().call('ListAccountSettings'), { settings: [] });
    assert.deepEqual(await as(ALICE).call('ListAccountSettings', { effectiveSettings: false }), { settings: [] });
  });

  it("sets the caller's own setting when principalArn is omitted, and answers with it", async () => {
    const out = await as(ALICE).call('PutAccountSetting', { name: 'containerInsights', value: 'enhanced' });
    assert.deepEqual(out, { setting: setting('containerInsights', 'enhanced', ALICE) });
    assert.deepEqual((await as(ALICE).call('ListAccountSettings')).settings, [setting('containerInsights', 'enhanced', ALICE)]);
    // Nobody else is affected.
    assert.deepEqual(await effective(BOB, 'containerInsights'), setting('containerInsights', 'disabled', ROOT));
    assert.deepEqual(await effective(ROOT, 'containerInsights'), setting('containerInsights', 'disabled', ROOT));
    assert.deepEqual(ecs.deps.state.catalog.get(Kind.accountSetting, `${ALICE}|containerInsights`)?.value, {
      name: 'containerInsights',
      value: 'enhanced',
      principalArn: ALICE,
    });
  });

  it("treats the root user's setting and PutAccountSettingDefault as the one account default", async () => {
    const viaDefault = await as(ALICE).call('PutAccountSettingDefault', { name: 'awsvpcTrunking', value: 'enabled' });
    assert.deepEqual(viaDefault, { setting: setting('awsvpcTrunking', 'enabled', ROOT) });
    assert.deepEqual((await root().call('ListAccountSettings')).settings, [setting('awsvpcTrunking', 'enabled', ROOT)]);
    const viaRoot = await root().call('PutAccountSetting', { name: 'awsvpcTrunking', value: 'disabled' });
    assert.deepEqual(viaRoot, { setting: setting('awsvpcTrunking', 'disabled', ROOT) });
    assert.deepEqual(await effective(BOB, 'awsvpcTrunking'), setting('awsvpcTrunking', 'disabled', ROOT));
    assert.deepEqual(ecs.deps.state.catalog.get(Kind.accountSetting, 'default|awsvpcTrunking')?.value, {
      name: 'awsvpcTrunking',
      value: 'disabled',
      principalArn: 'default',
    });
    assert.equal(ecs.deps.state.catalog.count(Kind.accountSetting), 1);
  });

  it("resolves the principal's own value, then the account default, then AWS's default", async () => {
    assert.deepEqual(await effective(ALICE, 'defaultLogDriverMode'), setting('defaultLogDriverMode', 'non-blocking', ROOT));
    await root().call('PutAccountSettingDefault', { name: 'defaultLogDriverMode', value: 'blocking' });
    assert.deepEqual(await effective(ALICE, 'defaultLogDriverMode'), setting('defaultLogDriverMode', 'blocking', ROOT));
    await root().call('PutAccountSetting', { name: 'defaultLogDriverMode', value: 'non-blocking', principalArn: ALICE });
    assert.deepEqual(await effective(ALICE, 'defaultLogDriverMode'), setting('defaultLogDriverMode', 'non-blocking', ALICE));
    assert.deepEqual(await effective(BOB, 'defaultLogDriverMode'), setting('defaultLogDriverMode', 'blocking', ROOT));

    const deletedOwn = await as(ALICE).call('DeleteAccountSetting', { name: 'defaultLogDriverMode' });
    assert.deepEqual(deletedOwn, { setting: setting('defaultLogDriverMode', 'non-blocking', ALICE) });
    assert.deepEqual(await effective(ALICE, 'defaultLogDriverMode'), setting('defaultLogDriverMode', 'blocking', ROOT));
    const deletedDefault = await root().call('DeleteAccountSetting', { name: 'defaultLogDriverMode' });
    assert.deepEqual(deletedDefault, { setting: setting('defaultLogDriverMode', 'blocking', ROOT) });
    assert.deepEqual(await effective(ALICE, 'defaultLogDriverMode'), setting('defaultLogDriverMode', 'non-blocking', ROOT));
    assert.equal(ecs.deps.state.catalog.count(Kind.accountSetting), 0);
  });

  it('accepts exactly the values each setting allows and names them when refusing', async () => {
    const valid: [string, string[]][] = [
      ['serviceLongArnFormat', ['enabled']],
      ['taskLongArnFormat', ['enabled']],
      ['containerInstanceLongArnFormat', ['enabled']],
      ['awsvpcTrunking', ['enabled', 'disabled']],
      ['containerInsights', ['enabled', 'disabled', 'enhanced']],
      ['fargateFIPSMode', ['enabled', 'disabled']],
      ['tagResourceAuthorization', ['on', 'off']],
      ['fargateTaskRetirementWaitPeriod', ['0', '7', '14']],
      ['defaultLogDriverMode', ['blocking', 'non-blocking']],
      ['fargateEventWindows', ['enabled', 'disabled']],
    ];
    for (const [name, values] of valid) {
      for (const value of values) {
        assert.deepEqual(await root().call('PutAccountSettingDefault', { name, value }), { setting: setting(name, value, ROOT) });
      }
    }
    const invalid: [string, string, RegExp][] = [
      ['awsvpcTrunking', 'enhanced', /Valid values: enabled, disabled\./],
      ['awsvpcTrunking', 'ENABLED', /Valid values: enabled, disabled\./],
      ['containerInsights', 'on', /Valid values: enabled, disabled, enhanced\./],
      ['fargateTaskRetirementWaitPeriod', '3', /Valid values: 0, 7, 14\./],
      ['fargateTaskRetirementWaitPeriod', '7 ', /Valid values: 0, 7, 14\./],
      ['defaultLogDriverMode', 'enabled', /Valid values: blocking, non-blocking\./],
      ['tagResourceAuthorization', 'enabled', /Valid values: on, off\./],
      ['serviceLongArnFormat', 'on', /Valid values: enabled\./],
      ['fargateEventWindows', '', /Valid values: enabled, disabled\./],
    ];
    for (const [name, value, message] of invalid) {
      for (const op of ['PutAccountSetting', 'PutAccountSettingDefault']) {
        const e = await root().fail(op, { name, value });
        assert.equal(e.code, 'InvalidParameterException', `${op} ${name}=${value}`);
        assert.match(e.message, message);
      }
    }
  });

  it('refuses to disable the long ARN formats, which ECS made mandatory', async () => {
    for (const name of ['serviceLongArnFormat', 'taskLongArnFormat', 'containerInstanceLongArnFormat']) {
      for (const [caller, op] of [
        [root(), 'PutAccountSettingDefault'],
        [root(), 'PutAccountSetting'],
        [as(ALICE), 'PutAccountSetting'],
      ] as const) {
        const e = await caller.fail(op, { name, value: 'disabled' });
        assert.equal(e.code, 'InvalidParameterException');
        assert.match(e.message, /can no longer be disabled/);
      }
    }
    assert.equal(ecs.deps.state.catalog.count(Kind.accountSetting), 0);
  });

  it('keeps guardDutyActivate read-only and AWS-managed', async () => {
    for (const [op, input] of [
      ['PutAccountSetting', { name: 'guardDutyActivate', value: 'on' }],
      ['PutAccountSettingDefault', { name: 'guardDutyActivate', value: 'on' }],
      ['DeleteAccountSetting', { name: 'guardDutyActivate' }],
    ] as const) {
      const e = await root().fail(op, input);
      assert.equal(e.code, 'InvalidParameterException', op);
      assert.match(e.message, /read-only/);
    }
    assert.deepEqual(await effective(ALICE, 'guardDutyActivate'), setting('guardDutyActivate', 'off', ROOT, 'aws_managed'));
  });

  it('rejects setting names outside the model enum', async () => {
    for (const op of ['PutAccountSetting', 'PutAccountSettingDefault', 'DeleteAccountSetting', 'ListAccountSettings']) {
      assert.equal((await root().fail(op, { name: 'dualStackIPv6', value: 'enabled' })).code, 'InvalidParameterException', op);
    }
    // The handlers check too, for callers that skip the protocol layer.
    await assert.rejects(
      (ecs.ops['PutAccountSetting'] as (i: unknown, c: object) => Promise<object>)({ name: 'nope', value: 'enabled' }, { principalArn: ROOT }),
      (e: unknown) => e instanceof ApiError && e.code === 'InvalidParameterException',
    );
  });

  it('sets the Fargate retirement wait period and FIPS mode only account-wide', async () => {
    for (const [name, value] of [
      ['fargateTaskRetirementWaitPeriod', '14'],
      ['fargateFIPSMode', 'enabled'],
    ] as const) {
      const e = await root().fail('PutAccountSetting', { name, value, principalArn: ALICE });
      assert.equal(e.code, 'InvalidParameterException', name);
      assert.match(e.message, /whole account/);
      assert.equal((await as(ALICE).fail('PutAccountSetting', { name, value })).code, 'InvalidParameterException', name);
      assert.deepEqual(await root().call('PutAccountSetting', { name, value }), { setting: setting(name, value, ROOT) });
      assert.deepEqual(await effective(ALICE, name), setting(name, value, ROOT));
    }
  });

  it('lets the root user set, list and delete settings for any IAM user or role of the account', async () => {
    for (const principalArn of [ALICE, BOB, DEPLOYER]) {
      assert.deepEqual(await root().call('PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled', principalArn }), {
        setting: setting('awsvpcTrunking', 'enabled', principalArn),
      });
      assert.deepEqual((await root().call('ListAccountSettings', { principalArn })).settings, [setting('awsvpcTrunking', 'enabled', principalArn)]);
    }
    assert.deepEqual(await root().call('DeleteAccountSetting', { name: 'awsvpcTrunking', principalArn: BOB }), {
      setting: setting('awsvpcTrunking', 'enabled', BOB),
    });
    assert.deepEqual((await root().call('ListAccountSettings', { principalArn: BOB })).settings, []);
  });

  it('lets other principals use principalArn only for themselves: AccessDeniedException otherwise', async () => {
    assert.deepEqual(await as(ALICE).call('PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled', principalArn: ALICE }), {
      setting: setting('awsvpcTrunking', 'enabled', ALICE),
    });
    for (const [op, input] of [
      ['PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled', principalArn: BOB }],
      ['PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled', principalArn: ROOT }],
      ['DeleteAccountSetting', { name: 'awsvpcTrunking', principalArn: BOB }],
      ['ListAccountSettings', { principalArn: BOB }],
    ] as const) {
      assert.equal((await as(ALICE).fail(op, input)).code, 'AccessDeniedException', `${op} ${JSON.stringify(input)}`);
    }
    assert.equal(ecs.deps.state.catalog.count(Kind.accountSetting), 1);
  });

  it('refuses principal ARNs of other accounts and strings that are not IAM principals', async () => {
    for (const principalArn of [
      'arn:aws:iam::999999999999:user/alice',
      'arn:aws:iam::999999999999:root',
      `arn:aws-cn:iam::${TEST_ACCOUNT}:user/alice`,
      'alice',
      `arn:aws:iam::${TEST_ACCOUNT}:group/admins`,
      `arn:aws:iam::${TEST_ACCOUNT}:user/`,
      `arn:aws:s3:::bucket`,
      AGENT,
    ]) {
      for (const [op, input] of [
        ['PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled', principalArn }],
        ['DeleteAccountSetting', { name: 'awsvpcTrunking', principalArn }],
        ['ListAccountSettings', { principalArn }],
      ] as const) {
        assert.equal((await root().fail(op, input)).code, 'InvalidParameterException', `${op} ${principalArn}`);
      }
    }
  });

  it('keeps the settings of an assumed-role session on its role', async () => {
    const session = as(DEPLOYER_SESSION);
    assert.deepEqual(await session.call('PutAccountSetting', { name: 'containerInsights', value: 'enabled' }), {
      setting: setting('containerInsights', 'enabled', DEPLOYER),
    });
    assert.deepEqual((await root().call('ListAccountSettings', { principalArn: DEPLOYER })).settings, [setting('containerInsights', 'enabled', DEPLOYER)]);
    assert.deepEqual((await session.call('ListAccountSettings', { principalArn: DEPLOYER })).settings, [setting('containerInsights', 'enabled', DEPLOYER)]);
  });

  it("gives federated users and agents the root user's settings and no settings of their own", async () => {
    await root().call('PutAccountSettingDefault', { name: 'containerInsights', value: 'enabled' });
    for (const caller of [as(FEDERATED), as(AGENT)]) {
      assert.equal((await caller.fail('PutAccountSetting', { name: 'containerInsights', value: 'disabled' })).code, 'InvalidParameterException');
      assert.equal((await caller.fail('DeleteAccountSetting', { name: 'containerInsights' })).code, 'InvalidParameterException');
      const listed = await caller.call('ListAccountSettings', { name: 'containerInsights', effectiveSettings: true });
      assert.deepEqual(listed.settings, [setting('containerInsights', 'enabled', ROOT)]);
    }
    assert.equal((await root().fail('PutAccountSetting', { name: 'containerInsights', value: 'enabled', principalArn: FEDERATED })).code, 'InvalidParameterException');
  });

  it('answers DeleteAccountSetting of an unset setting with the setting that remains in effect', async () => {
    assert.deepEqual(await as(ALICE).call('DeleteAccountSetting', { name: 'fargateEventWindows' }), {
      setting: setting('fargateEventWindows', 'disabled', ROOT),
    });
    assert.equal(ecs.deps.state.catalog.count(Kind.accountSetting), 0);
  });

  it('filters by name and value; value alone is InvalidParameterException', async () => {
    await root().call('PutAccountSettingDefault', { name: 'containerInsights', value: 'enabled' });
    await as(ALICE).call('PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled' });
    assert.deepEqual((await as(ALICE).call('ListAccountSettings', { name: 'containerInsights', effectiveSettings: true })).settings, [
      setting('containerInsights', 'enabled', ROOT),
    ]);
    assert.deepEqual((await as(ALICE).call('ListAccountSettings', { name: 'containerInsights', value: 'disabled', effectiveSettings: true })).settings, []);
    assert.deepEqual((await as(ALICE).call('ListAccountSettings', { name: 'awsvpcTrunking', value: 'enabled' })).settings, [
      setting('awsvpcTrunking', 'enabled', ALICE),
    ]);
    assert.deepEqual((await as(ALICE).call('ListAccountSettings', { name: 'containerInsights' })).settings, []);
    assert.equal((await as(ALICE).fail('ListAccountSettings', { value: 'enabled' })).code, 'InvalidParameterException');
  });

  it('pages with maxResults 1-10 and opaque tokens', async () => {
    await as(ALICE).call('PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled' });
    const tokens = new Set<string>();
    const seen: unknown[] = [];
    let nextToken: string | undefined;
    do {
      const page = await as(ALICE).call('ListAccountSettings', { effectiveSettings: true, maxResults: 3, ...(nextToken ? { nextToken } : {}) });
      assert.ok(page.settings.length <= 3);
      seen.push(...page.settings);
      nextToken = page.nextToken;
      if (nextToken) {
        assert.ok(!tokens.has(nextToken));
        tokens.add(nextToken);
      }
    } while (nextToken);
    assert.equal(tokens.size, 3);
    assert.deepEqual(seen, await listAll(as(ALICE), { effectiveSettings: true }));
    assert.deepEqual(seen[3], setting('awsvpcTrunking', 'enabled', ALICE));
    for (const maxResults of [0, 11, 100]) {
      assert.equal((await root().fail('ListAccountSettings', { maxResults })).code, 'InvalidParameterException', String(maxResults));
    }
    assert.equal((await root().fail('ListAccountSettings', { nextToken: 'garbage' })).code, 'InvalidParameterException');
    // A token belongs to its query: it cannot be replayed for another principal's listing.
    const first = await root().call('ListAccountSettings', { effectiveSettings: true, maxResults: 1 });
    assert.equal((await root().fail('ListAccountSettings', { effectiveSettings: true, principalArn: ALICE, nextToken: first.nextToken })).code, 'InvalidParameterException');
  });

  it('writes nothing when a setting is put again with the same value', async () => {
    await as(ALICE).call('PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled' });
    const rev = ecs.deps.state.catalog.get(Kind.accountSetting, `${ALICE}|awsvpcTrunking`)!.rev;
    await as(ALICE).call('PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled' });
    assert.equal(ecs.deps.state.catalog.get(Kind.accountSetting, `${ALICE}|awsvpcTrunking`)!.rev, rev);
  });
});
