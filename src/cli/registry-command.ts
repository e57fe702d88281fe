/**
 * `gantry registry SUBCOMMAND`: registry administration that the AWS CLI has no verb for, through Gantry's
 * extensions to the ECR API (models/ecr.gantry.json). Today one subcommand: `revoke-tokens`
 * (RevokeAuthorizationTokens), shown as a table or printed as JSON.
 */
import { ConfigError } from '../config/server-config.js';
import { callAws, describeFailure } from './aws-call.js';
import { CLIENT_FLAGS_HELP, CLIENT_OPTIONS, clientTarget } from './client-options.js';
import type { Command } from './main.js';
import { table } from './table.js';

const USAGE = `Usage: gantry registry revoke-tokens [--principal ARN] [--output table|json]

Subcommands:
  revoke-tokens         Revoke every registry token (docker login password, agent pull token, layer download
                        URL) issued to a principal until now. They are refused from then on, by every server
                        sharing the store and after restarts; tokens issued afterwards work. Use it when a
                        password from 'aws ecr get-login-password' may have leaked. Needs the
                        ecr:RevokeAuthorizationTokens permission (the root user holds it).

Options:
  --principal ARN       Whose tokens: the root user (arn:aws:iam::ACCOUNT:root) or a container instance ARN
                        (its agent's pull tokens; the agent gets a new one with its next tasks). Default: the
                        caller, i.e. the principal of the access key this command signs with
  --output FORMAT       table (default) or json (the whole answer)
${CLIENT_FLAGS_HELP}
  -h, --help            Show this help

Example:
  gantry registry revoke-tokens
  gantry registry revoke-tokens --principal arn:aws:ecs:us-east-1:123456789012:container-instance/prod/0f1e… --output json`;

const OPTIONS = {
  principal: { type: 'string' },
  output: { type: 'string' },
  ...CLIENT_OPTIONS,
} as const;

/** RevokeAuthorizationTokens' answer on the wire (revokedBefore in epoch seconds). */
interface Revocation {
  registryId: string;
  principalArn: string;
  revokedBefore: number;
}

export const registryCommand: Command = {
  summary: 'Registry administration: revoke-tokens (refuse the registry tokens a principal holds)',
  usage: USAGE,
  options: OPTIONS,
  async run(values, positionals) {
    const [sub, ...extra] = positionals;
    if (sub === undefined) throw new ConfigError(`a subcommand is required.\n\n${USAGE}`);
    if (sub !== 'revoke-tokens') throw new ConfigError(`unknown subcommand '${sub}'.\n\n${USAGE}`);
    if (extra.length > 0) throw new ConfigError(`unexpected argument '${extra[0]}'.\n\n${USAGE}`);
    const v = values as Record<string, string | boolean | undefined>;
    const output = typeof v['output'] === 'string' ? v['output'] : 'table';
    if (output !== 'table' && output !== 'json') throw new ConfigError(`--output must be table or json; got '${output}'.`);
    const principal = v['principal'];
    if (principal === '') throw new ConfigError('--principal needs an ARN.');
    const input = typeof principal === 'string' ? { principalArn: principal } : {};
    const answer = await callAws(clientTarget(values, process.env, 'ecr'), 'ecr', 'RevokeAuthorizationTokens', input);
    if (answer.status !== 200) {
      process.stderr.write(`gantry registry revoke-tokens: ${describeFailure(answer)}\n`);
      return 1;
    }
    if (output === 'json') {
      process.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(renderRevocation(answer.body as Revocation));
    return 0;
  },
};

export function renderRevocation(r: Revocation): string {
  const lines = table(['PRINCIPAL', 'TOKENS ISSUED BEFORE'], [[r.principalArn, new Date(r.revokedBefore * 1000).toISOString()]]);
  lines.push('', 'Those tokens are refused from now on; run aws ecr get-login-password | docker login … again for a new one.');
  return `${lines.join('\n')}\n`;
}
