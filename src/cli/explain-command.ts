/**
 * `gantry explain`: why a task would (or would not) be placed on each instance — the ExplainPlacement extension
 * operation (models/ecs.gantry.json), shown as a table or printed as JSON. Placement options are given as the
 * AWS CLI takes them for run-task: shorthand (`type=binpack,field=memory`) or JSON.
 */
import { ConfigError } from '../config/server-config.js';
import { callAws, describeFailure } from './aws-call.js';
import { CLIENT_FLAGS_HELP, CLIENT_OPTIONS, clientTarget } from './client-options.js';
import { table } from './table.js';
import type { Command } from './main.js';

const USAGE = `Usage: gantry explain --task-definition TD [--cluster C] [--count N] [--group G]
                      [--placement-strategy RULE]... [--placement-constraints CONSTRAINT]... [--all] [--output table|json]

Shows how Gantry would place a task with RunTask's placement options, and why: for every container instance,
the stage that rejected it (agent, cpu, memory, ports, gpu, attributes, or the constraint) with the reason ECS
would report, or how each strategy rule ranked it; and where --count tasks would go. Nothing is started.

Options:
  --task-definition TD        family, family:revision or ARN (required)
  --cluster C                 default: default
  --count N                   tasks to place, 1-10 (default 1)
  --group G                   task group (default family:<family>): the scope of spread and distinctInstance
  --placement-strategy RULE   repeatable, in order: type=binpack,field=memory | type=spread,field=attribute:NAME |
                              type=spread,field=instanceId | type=random — or a JSON list as the AWS CLI takes it
  --placement-constraints C   repeatable: type=distinctInstance | type=memberOf,expression=EXPR — or a JSON list
  --all                       list every instance (default: the chosen and eligible ones, up to 20, and the rejected
                              ones summed up by reason)
  --output FORMAT             table (default) or json (the whole answer)
${CLIENT_FLAGS_HELP}
  -h, --help                  Show this help

Example:
  gantry explain --cluster prod --task-definition web:3 --count 3 \\
    --placement-strategy type=spread,field=attribute:ecs.availability-zone --placement-strategy type=binpack,field=memory \\
    --placement-constraints 'type=memberOf,expression=attribute:ecs.instance-type =~ m5.*'`;

const OPTIONS = {
  'task-definition': { type: 'string' },
  cluster: { type: 'string' },
  count: { type: 'string' },
  group: { type: 'string' },
  'placement-strategy': { type: 'string', multiple: true },
  'placement-constraints': { type: 'string', multiple: true },
  all: { type: 'boolean' },
  output: { type: 'string' },
  ...CLIENT_OPTIONS,
} as const;

export const explainCommand: Command = {
  summary: 'Explain where a task would be placed, and why each instance was or was not chosen',
  usage: USAGE,
  options: OPTIONS,
  async run(values) {
    const v = values as Record<string, string | boolean | string[] | undefined>;
    const str = (k: string) => (typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : undefined);
    const taskDefinition = str('task-definition');
    if (taskDefinition === undefined) throw new ConfigError(`--task-definition is required.\n\n${USAGE}`);
    const output = str('output') ?? 'table';
    if (output !== 'table' && output !== 'json') throw new ConfigError(`--output must be table or json; got '${output}'.`);
    const count = str('count');
    if (count !== undefined && !/^\d+$/.test(count)) throw new ConfigError(`--count must be a whole number from 1 to 10; got '${count}'.`);
    const input: Record<string, unknown> = { taskDefinition };
    if (str('cluster')) input['cluster'] = str('cluster');
    if (count !== undefined) input['count'] = Number(count);
    if (str('group')) input['group'] = str('group');
    const strategy = ((v['placement-strategy'] as string[] | undefined) ?? []).flatMap((s) => shorthand(s, 'field'));
    const constraints = ((v['placement-constraints'] as string[] | undefined) ?? []).flatMap((s) => shorthand(s, 'expression'));
    if (strategy.length > 0) input['placementStrategy'] = strategy;
    if (constraints.length > 0) input['placementConstraints'] = constraints;
    const target = clientTarget(values, process.env);
    const answer = await callAws(target, 'ecs', 'ExplainPlacement', input);
    if (answer.status !== 200) {
      process.stderr.write(`gantry explain: ${describeFailure(answer)}\n`);
      return 1;
    }
    if (output === 'json') {
      process.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(renderExplanation(answer.body as Explanation, { all: v['all'] === true }));
    return 0;
  },
};

/**
 * One `--placement-strategy`/`--placement-constraints` value: JSON (a list or one object), or the AWS CLI
 * shorthand `type=…,field=…`. The last key (`field`, `expression`) takes the rest of the text, commas and all, so
 * `expression=attribute:zone in [a, b]` survives.
 */
export function shorthand(text: string, lastKey: string): Record<string, string>[] {
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      const parsed = JSON.parse(t) as unknown;
      return (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, string>[];
    } catch (e) {
      throw new ConfigError(`'${text}' is not valid JSON: ${(e as Error).message}`);
    }
  }
  const out: Record<string, string> = {};
  let rest = t;
  while (rest !== '') {
    const eq = rest.indexOf('=');
    if (eq <= 0) throw new ConfigError(`'${text}' is not key=value shorthand (e.g. type=binpack,field=memory).`);
    const key = rest.slice(0, eq).trim();
    const after = rest.slice(eq + 1);
    if (key === lastKey) {
      out[key] = after.trim();
      break;
    }
    const comma = after.indexOf(',');
    out[key] = (comma < 0 ? after : after.slice(0, comma)).trim();
    rest = comma < 0 ? '' : after.slice(comma + 1);
  }
  return [out];
}

interface InstanceRow {
  containerInstanceArn: string;
  ec2InstanceId: string;
  availabilityZone?: string;
  instanceType?: string;
  remainingCpu: number;
  remainingMemory: number;
  outcome: 'PLACED' | 'ELIGIBLE' | 'REJECTED';
  rejectedBy?: string;
  reason?: string;
  detail?: string;
  ranks: { rule: string; value?: number; best: boolean }[];
  tasksPlaced: number;
}

interface Explanation {
  cluster: string;
  taskDefinitionArn: string;
  demand: { cpu: number; memory: number; portsTcp: number[]; portsUdp: number[]; gpus: number };
  group: string;
  strategy: string[];
  constraints: string[];
  instances: InstanceRow[];
  placements: string[];
  failures: { arn: string; reason: string; detail?: string }[];
  summary: { instances: number; eligible: number; rejectedBy: Record<string, number> };
}

const MAX_ELIGIBLE_ROWS = 20;

/** The explanation as a person reads it: what was asked, a table of instances, then the verdict. */
export function renderExplanation(e: Explanation, opts: { all: boolean }): string {
  const lines: string[] = [];
  const d = e.demand;
  const ports = [...d.portsTcp.map((p) => `${p}/tcp`), ...d.portsUdp.map((p) => `${p}/udp`)];
  lines.push(`Task ${e.taskDefinitionArn.split('/').pop()} in cluster ${e.cluster}, group ${e.group}`);
  lines.push(`  needs ${d.cpu} CPU units, ${d.memory} MiB${ports.length ? `, host ports ${ports.join(' ')}` : ''}${d.gpus ? `, ${d.gpus} GPU` : ''}`);
  lines.push(`  strategy ${e.strategy.join(' → ') || '(none)'}${e.constraints.length ? `; constraints ${e.constraints.join(', ')}` : ''}`);
  lines.push('');
  const shown = opts.all
    ? e.instances
    : [...e.instances.filter((i) => i.outcome === 'PLACED'), ...e.instances.filter((i) => i.outcome === 'ELIGIBLE').slice(0, MAX_ELIGIBLE_ROWS)];
  const rows = shown.map((i) => [
    shortId(i.containerInstanceArn),
    i.ec2InstanceId,
    i.availabilityZone ?? '-',
    i.instanceType ?? '-',
    String(i.remainingCpu),
    String(i.remainingMemory),
    i.outcome === 'PLACED' ? `PLACED ×${i.tasksPlaced}` : i.outcome,
    i.outcome === 'REJECTED' ? `${i.rejectedBy}: ${i.detail ?? i.reason}` : i.ranks.map((r) => `${r.rule}${r.value === undefined ? '' : `=${r.value}`}${r.best ? ' ✓' : ' ✗'}`).join('  '),
  ]);
  lines.push(...table(['INSTANCE', 'EC2 ID', 'ZONE', 'TYPE', 'CPU LEFT', 'MEM LEFT', 'OUTCOME', 'WHY'], rows));
  const hiddenEligible = e.instances.filter((i) => i.outcome === 'ELIGIBLE').length - shown.filter((i) => i.outcome === 'ELIGIBLE').length;
  if (hiddenEligible > 0) lines.push(`  … and ${hiddenEligible} more eligible instances (--all lists them)`);
  lines.push('');
  lines.push(`${e.summary.instances} instances: ${e.summary.eligible} eligible, ${e.summary.instances - e.summary.eligible} rejected`);
  for (const [stage, n] of Object.entries(e.summary.rejectedBy).sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(6)} rejected by ${stage}`);
  lines.push('');
  if (e.placements.length > 0) lines.push(`Would place ${e.placements.length} task${e.placements.length > 1 ? 's' : ''} on: ${e.placements.map(shortId).join(', ')}`);
  for (const f of e.failures) lines.push(`Would fail: ${f.reason} (closest instance ${shortId(f.arn)}${f.detail ? `: ${f.detail}` : ''})`);
  return `${lines.join('\n')}\n`;
}

function shortId(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}
