/**
 * Repository policies (SetRepositoryPolicy), evaluated as IAM evaluates resource policies, kept small but
 * real (pure; no I/O):
 *   - statements with `Effect` Allow | Deny, `Principal` ("*", {"AWS": arn | account id | [...]}) or
 *     `NotPrincipal`, `Action` / `NotAction` (string or list, `*` and `?` wildcards, case-insensitive);
 *   - an explicit Deny wins; otherwise an Allow from the repository policy or from the principal's own
 *     permissions allows; nothing allows → denied.
 * `Condition` blocks are refused when the policy is set (Gantry does not evaluate them, and silently ignoring
 * a condition would grant more than the author meant).
 */

export interface PolicyStatement {
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  /** Principals the statement applies to; '*' = everyone. */
  readonly principals: readonly string[] | '*';
  readonly notPrincipals?: readonly string[];
  readonly actions?: readonly RegExp[];
  readonly notActions?: readonly RegExp[];
}

export interface Policy {
  readonly statements: readonly PolicyStatement[];
}

export class PolicyError extends Error {
  override name = 'PolicyError';
}

const asList = (v: unknown, what: string): string[] => {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  throw new PolicyError(`${what} must be a string or a non-empty list of strings`);
};

function actionPattern(a: string): RegExp {
  if (a !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(a)) throw new PolicyError(`'${a}' is not an action (service:Action, wildcards * and ?)`);
  const re = a.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i');
}

function principalsOf(v: unknown, what: string): readonly string[] | '*' {
  if (v === '*') return '*';
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length !== 1 || keys[0] !== 'AWS') {
      throw new PolicyError(`${what} must be "*" or {"AWS": …}; Gantry has no ${keys.filter((k) => k !== 'AWS').join(', ')} principals`);
    }
    const list = asList((v as Record<string, unknown>)['AWS'], `${what}.AWS`);
    if (list.includes('*')) return '*';
    for (const p of list) {
      if (!/^\d{12}$/.test(p) && !/^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/.test(p)) throw new PolicyError(`'${p}' is not an account id or ARN`);
    }
    return list;
  }
  throw new PolicyError(`${what} must be "*" or {"AWS": …}`);
}

/** Parses and checks a policy document; PolicyError says what is wrong. */
export function parsePolicy(text: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new PolicyError(`the policy is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new PolicyError('the policy must be a JSON object');
  const d = doc as Record<string, unknown>;
  if (d['Version'] !== undefined && d['Version'] !== '2012-10-17' && d['Version'] !== '2008-10-17') {
    throw new PolicyError(`Version must be 2012-10-17 or 2008-10-17; got ${JSON.stringify(d['Version'])}`);
  }
  const raw = Array.isArray(d['Statement']) ? d['Statement'] : d['Statement'] !== undefined ? [d['Statement']] : undefined;
  if (raw === undefined || raw.length === 0) throw new PolicyError('the policy has no Statement');
  const statements = raw.map((s: unknown, i): PolicyStatement => {
    const what = `Statement[${i}]`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new PolicyError(`${what} must be an object`);
    const st = s as Record<string, unknown>;
    for (const k of Object.keys(st)) {
      if (!['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource'].includes(k)) {
        throw new PolicyError(`${what}.${k} is not supported by Gantry's policy evaluator${k === 'Condition' ? ' (conditions are not evaluated)' : ''}`);
      }
    }
    if (st['Effect'] !== 'Allow' && st['Effect'] !== 'Deny') throw new PolicyError(`${what}.Effect must be Allow or Deny`);
    if ((st['Principal'] === undefined) === (st['NotPrincipal'] === undefined)) throw new PolicyError(`${what} needs exactly one of Principal and NotPrincipal`);
    if ((st['Action'] === undefined) === (st['NotAction'] === undefined)) throw new PolicyError(`${what} needs exactly one of Action and NotAction`);
    const out: { -readonly [K in keyof PolicyStatement]: PolicyStatement[K] } = {
      effect: st['Effect'],
      principals: st['Principal'] !== undefined ? principalsOf(st['Principal'], `${what}.Principal`) : [],
    };
    if (typeof st['Sid'] === 'string') out.sid = st['Sid'];
    if (st['NotPrincipal'] !== undefined) {
      const np = principalsOf(st['NotPrincipal'], `${what}.NotPrincipal`);
      if (np === '*') throw new PolicyError(`${what}.NotPrincipal cannot be "*"`);
      out.principals = '*';
      out.notPrincipals = np;
    }
    if (st['Action'] !== undefined) out.actions = asList(st['Action'], `${what}.Action`).map(actionPattern);
    if (st['NotAction'] !== undefined) out.notActions = asList(st['NotAction'], `${what}.NotAction`).map(actionPattern);
    return out;
  });
  return { statements };
}

const accountOf = (arn: string): string | undefined => /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1];

/** Does a principal entry (ARN or account id) name this principal? An account (or its root) names all of it. */
function names(entry: string, principalArn: string): boolean {
  if (entry === principalArn) return true;
  const account = /^\d{12}$/.test(entry) ? entry : /^arn:[^:]+:iam::(\d{12}):root$/.exec(entry)?.[1];
  return account !== undefined && accountOf(principalArn) === account;
}

function applies(s: PolicyStatement, principalArn: string, action: string): boolean {
  if (s.principals !== '*' && !s.principals.some((p) => names(p, principalArn))) return false;
  if (s.notPrincipals?.some((p) => names(p, principalArn))) return false;
  if (s.actions && !s.actions.some((a) => a.test(action))) return false;
  if (s.notActions?.some((a) => a.test(action))) return false;
  return true;
}

/** What the policy says about `principalArn` doing `action`: an explicit deny, an allow, or nothing. */
export function evaluatePolicy(policy: Policy, principalArn: string, action: string): 'deny' | 'allow' | 'none' {
  let allowed = false;
  for (const s of policy.statements) {
    if (!applies(s, principalArn, action)) continue;
    if (s.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}
