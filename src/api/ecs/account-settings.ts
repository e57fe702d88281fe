/**
 * Account settings: PutAccountSetting, PutAccountSettingDefault, DeleteAccountSetting, ListAccountSettings.
 *
 * A principal's effective value for a setting is resolved in this order:
 *   1. its own setting (PutAccountSetting for that IAM user or role);
 *   2. the account default — set with PutAccountSettingDefault, or with PutAccountSetting for the root user,
 *      which ECS documents as the same thing, so both are one record (principal 'default');
 *   3. AWS's built-in default (RULES below).
 * Records live in Kind.accountSetting under `${principal}|${name}`. Federated users (and non-IAM callers such
 * as agents) follow the root user's settings and cannot have their own.
 */
import type {
  DeleteAccountSettingRequest,
  ListAccountSettingsRequest,
  PutAccountSettingDefaultRequest,
  PutAccountSettingRequest,
  Setting,
  SettingName,
} from '@aws-sdk/client-ecs';
import { Ecs } from '../../domain/errors.js';
import { Kind } from '../../domain/records.js';
import type { AccountSettingRecord } from '../../domain/records.js';
import { deleteOp, putOp } from '../../state/catalog.js';
import { paginate } from '../pagination.js';
import type { EcsDeps, RequestContext } from './context.js';

interface SettingRule {
  readonly values: readonly string[];
  /** AWS's default when neither the principal nor the account has chosen. */
  readonly builtIn: string;
  /** Values that are syntactically valid but may no longer be chosen, with the reason. */
  readonly refused?: Readonly<Record<string, string>>;
  /** Account-wide only: settable for the root user (= the account default), never per user or role. */
  readonly accountOnly?: true;
  /** Managed by AWS on the account's behalf: read-only, and the only settings of type `aws_managed`. */
  readonly awsManaged?: true;
}

const ON_OFF = ['enabled', 'disabled'] as const;
const LONG_ARN_ONLY = {
  disabled:
    'The long ARN and resource ID format can no longer be disabled: it is mandatory for every account since April 1, 2021.',
};

/** Keyed by the model's SettingName enum, in its order, so the compiler flags a name added to the SDK. */
const RULES: Readonly<Record<SettingName, SettingRule>> = {
  serviceLongArnFormat: { values: ON_OFF, builtIn: 'enabled', refused: LONG_ARN_ONLY },
  taskLongArnFormat: { values: ON_OFF, builtIn: 'enabled', refused: LONG_ARN_ONLY },
  containerInstanceLongArnFormat: { values: ON_OFF, builtIn: 'enabled', refused: LONG_ARN_ONLY },
  awsvpcTrunking: { values: ON_OFF, builtIn: 'disabled' },
  containerInsights: { values: ['enabled', 'disabled', 'enhanced'], builtIn: 'disabled' },
  // The developer guide turns FIPS mode on with put-account-setting-default only: it applies to the account.
  fargateFIPSMode: { values: ON_OFF, builtIn: 'disabled', accountOnly: true },
  tagResourceAuthorization: { values: ['on', 'off'], builtIn: 'on' },
  // "You must use the root user when you set the Fargate wait time" (PutAccountSetting.principalArn).
  fargateTaskRetirementWaitPeriod: { values: ['0', '7', '14'], builtIn: '7', accountOnly: true },
  guardDutyActivate: { values: ['on', 'off'], builtIn: 'off', awsManaged: true },
  // ECS changed the default from blocking to non-blocking on June 25, 2025.
  defaultLogDriverMode: { values: ['blocking', 'non-blocking'], builtIn: 'non-blocking' },
  fargateEventWindows: { values: ON_OFF, builtIn: 'disabled' },
};
const SETTING_NAMES = Object.keys(RULES) as SettingName[];

/** The record principal of account defaults (and so of the root user's own settings). */
const ACCOUNT = 'default';

interface Principal {
  /** Record key: an IAM user or role ARN, or ACCOUNT for the root user and for those who follow it. */
  readonly key: string;
  /** As Setting.principalArn shows it. */
  readonly arn: string;
  readonly isRoot: boolean;
  /** False for federated users and non-IAM callers, which follow the root user's settings. */
  readonly ownSettings: boolean;
}

/** Setting as the API returns it: every member present. */
interface WireSetting extends Setting {
  name: SettingName;
  value: string;
  principalArn: string;
  type: NonNullable<Setting['type']>;
}

export class AccountSettingOperations {
  readonly #rootArn: string;

  constructor(private readonly deps: EcsDeps) {
    this.#rootArn = `arn:${deps.arns.partition}:iam::${deps.arns.accountId}:root`;
  }

  PutAccountSetting = async (input: PutAccountSettingRequest, ctx: RequestContext): Promise<{ setting: WireSetting }> => {
    const name = settingName(input.name);
    const target = this.target(input.principalArn, ctx);
    this.checkWritable(name, target);
    const value = checkValue(name, input.value);
    return { setting: await this.put(target, name, value) };
  };

  PutAccountSettingDefault = async (input: PutAccountSettingDefaultRequest): Promise<{ setting: WireSetting }> => {
    const name = settingName(input.name);
    const account = this.account();
    this.checkWritable(name, account);
    const value = checkValue(name, input.value);
    return { setting: await this.put(account, name, value) };
  };

  DeleteAccountSetting = async (input: DeleteAccountSettingRequest, ctx: RequestContext): Promise<{ setting: WireSetting }> => {
    const name = settingName(input.name);
    const target = this.target(input.principalArn, ctx);
    this.checkWritable(name, target);
    const { catalog } = this.deps.state;
    const key = recordKey(target.key, name);
    const deleted = await catalog.transact(() => {
      const cur = catalog.get<AccountSettingRecord>(Kind.accountSetting, key);
      return cur ? { ops: [deleteOp(Kind.accountSetting, key, cur)], result: cur.value } : { ops: [], result: undefined };
    });
    // Deleting what is not set succeeds, so clients that converge on "unset" can repeat it; the answer is then
    // the setting the principal keeps, as the model's "the account setting for the specified principal ARN".
    return { setting: deleted ? this.view(name, deleted.value, target.arn) : this.effective(target, name) };
  };

  ListAccountSettings = async (input: ListAccountSettingsRequest, ctx: RequestContext) => {
    if (input.value !== undefined && input.name === undefined) {
      throw Ecs.invalidParameter('value filters the settings of one name: specify name as well.');
    }
    const names = input.name === undefined ? SETTING_NAMES : [settingName(input.name)];
    const target = this.target(input.principalArn, ctx);
    const effective = input.effectiveSettings === true;
    const settings: WireSetting[] = [];
    for (const name of names) {
      const s = effective ? this.effective(target, name) : this.explicit(target, name);
      if (s && (input.value === undefined || s.value === input.value)) settings.push(s);
    }
    // Keys keep the model's order of names, which is also the order clients see.
    const order = (s: WireSetting) => String(SETTING_NAMES.indexOf(s.name)).padStart(2, '0');
    const scope = `ListAccountSettings:${target.key}:${input.name ?? ''}:${input.value ?? ''}:${effective}`;
    const page = paginate(settings, order, input, { defaultSize: 10, maxSize: 10, scope }, Ecs.invalidParameter);
    return { settings: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  };

  /** The principal a request is about: `principalArn` if given (root or itself only), else the caller. */
  private target(principalArn: string | undefined, ctx: RequestContext): Principal {
    const caller = this.callerOf(ctx.principalArn);
    if (principalArn === undefined) return caller;
    const target = this.principalOf(principalArn);
    if (!caller.isRoot && target.arn !== caller.arn) {
      throw Ecs.accessDenied(`Only the root user or '${target.arn}' itself may use the account settings of '${principalArn}'.`);
    }
    return target;
  }

  private account(): Principal {
    return { key: ACCOUNT, arn: this.#rootArn, isRoot: true, ownSettings: true };
  }

  private callerOf(arn: string): Principal {
    try {
      return this.principalOf(arn);
    } catch {
      // Not an IAM identity of this account (an agent's credentials): it sees the account's settings.
      return { key: ACCOUNT, arn, isRoot: false, ownSettings: false };
    }
  }

  /** Parses an IAM principal ARN of this account; an assumed-role session stands for its role. */
  private principalOf(arn: string): Principal {
    const { partition, accountId } = this.deps.arns;
    const m = /^arn:([^:]+):(iam|sts)::(\d{12}):(.+)$/.exec(arn);
    if (!m) {
      throw Ecs.invalidParameter(`principalArn '${arn}' is not valid: use the ARN of the root user, an IAM user or an IAM role.`);
    }
    const [, p, service, account, resource] = m as unknown as [string, string, string, string, string];
    if (p !== partition || account !== accountId) {
      throw Ecs.invalidParameter(`principalArn '${arn}' belongs to another account: account settings can only be read or changed for account ${accountId}.`);
    }
    if (service === 'iam' && resource === 'root') return this.account();
    if (service === 'iam' && /^(user|role)\/[\w+=,.@/-]+$/.test(resource)) return { key: arn, arn, isRoot: false, ownSettings: true };
    const assumed = service === 'sts' ? /^assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/.exec(resource) : null;
    if (assumed) {
      const role = `arn:${p}:iam::${account}:role/${assumed[1]!}`;
      return { key: role, arn: role, isRoot: false, ownSettings: true };
    }
    if (service === 'sts' && /^federated-user\/[\w+=,.@-]+$/.test(resource)) {
      return { key: ACCOUNT, arn, isRoot: false, ownSettings: false };
    }
    throw Ecs.invalidParameter(`principalArn '${arn}' is not valid: use the ARN of the root user, an IAM user or an IAM role.`);
  }

  private checkWritable(name: SettingName, target: Principal): void {
    const rule = RULES[name];
    if (rule.awsManaged) throw Ecs.invalidParameter(`${name} is managed by AWS on the account's behalf and is read-only.`);
    if (!target.ownSettings) {
      throw Ecs.invalidParameter(`'${target.arn}' follows the root user's account settings and cannot have settings of its own.`);
    }
    if (rule.accountOnly && !target.isRoot) {
      throw Ecs.invalidParameter(`${name} applies to the whole account: set it for the root user or with PutAccountSettingDefault, not for '${target.arn}'.`);
    }
  }

  private async put(target: Principal, name: SettingName, value: string): Promise<WireSetting> {
    const { catalog } = this.deps.state;
    const key = recordKey(target.key, name);
    await catalog.transact(() => {
      const cur = catalog.get<AccountSettingRecord>(Kind.accountSetting, key);
      if (cur && cur.value.value === value) return { ops: [], result: undefined };
      const record: AccountSettingRecord = { name, value, principalArn: target.key };
      return { ops: [putOp(Kind.accountSetting, key, record, cur)], result: undefined };
    });
    return this.view(name, value, target.arn);
  }

  /** The setting the principal itself has chosen (for the root user: the account default), if any. */
  private explicit(target: Principal, name: SettingName): WireSetting | undefined {
    const own = this.record(target.key, name);
    return own ? this.view(name, own.value, target.key === ACCOUNT ? this.#rootArn : target.arn) : undefined;
  }

  private effective(target: Principal, name: SettingName): WireSetting {
    const own = target.key === ACCOUNT ? undefined : this.record(target.key, name);
    if (own) return this.view(name, own.value, target.arn);
    return this.view(name, this.record(ACCOUNT, name)?.value ?? RULES[name].builtIn, this.#rootArn);
  }

  private record(principal: string, name: SettingName): AccountSettingRecord | undefined {
    return this.deps.state.catalog.get<AccountSettingRecord>(Kind.accountSetting, recordKey(principal, name))?.value;
  }

  private view(name: SettingName, value: string, principalArn: string): WireSetting {
    return { name, value, principalArn, type: RULES[name].awsManaged ? 'aws_managed' : 'user' };
  }
}

const recordKey = (principal: string, name: string): string => `${principal}|${name}`;

function settingName(name: string | undefined): SettingName {
  if (name === undefined || !Object.hasOwn(RULES, name)) {
    throw Ecs.invalidParameter(`Unknown account setting name '${name ?? ''}'. Valid names: ${SETTING_NAMES.join(', ')}.`);
  }
  return name as SettingName;
}

function checkValue(name: SettingName, value: string | undefined): string {
  const rule = RULES[name];
  if (value === undefined || !rule.values.includes(value)) {
    const allowed = rule.values.filter((v) => rule.refused?.[v] === undefined);
    throw Ecs.invalidParameter(`Invalid value '${value ?? ''}' for account setting ${name}. Valid values: ${allowed.join(', ')}.`);
  }
  const refusal = rule.refused?.[value];
  if (refusal !== undefined) throw Ecs.invalidParameter(`${name}: ${refusal}`);
  return value;
}
