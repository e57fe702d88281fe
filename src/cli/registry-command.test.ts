/**
 * `gantry registry revoke-tokens` against a real server in this process: the table and JSON answers, refusals,
 * and the revocation surviving a restart of the server (it is a record in the store).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../app/server-app.js';
import type { RunningServer } from '../app/server-app.js';
import { compileServerConfig } from '../config/server-config.js';
import { ACCESS_KEY_ID, ACCOUNT, REGION, ROOT, SECRET_ACCESS_KEY } from '../testing/harness.js';
import { silentLogger } from '../util/log.js';
import { callAws } from './aws-call.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gantry-registry-cli-'));
const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
let server: RunningServer;

async function start(): Promise<RunningServer> {
  const config = compileServerConfig({ port: '0', 'data-dir': dataDir, region: REGION, 'account-id': ACCOUNT, 'log-level': 'error' }, {});
  return startServer({ config, logger: silentLogger, env: { GANTRY_ACCESS_KEY_ID: ACCESS_KEY_ID, GANTRY_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY } });
}

/** Runs `gantry ARGS` as a child process (asynchronously: the server answering it runs in this process). */
function gantry(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist', 'cli', 'main.js'), ...args],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_REGION: REGION }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function loginPassword(): Promise<string> {
  const r = await callAws({ endpoint: new URL(server.url), region: REGION, credentials }, 'ecr', 'GetAuthorizationToken', {});
  assert.equal(r.status, 200);
  const data = (r.body as { authorizationData: { authorizationToken: string }[] }).authorizationData[0]!;
  return Buffer.from(data.authorizationToken, 'base64').toString('utf8').slice('AWS:'.length);
}

async function v2(password: string): Promise<number> {
  const res = await fetch(`${server.url}/v2/`, { headers: { authorization: `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` } });
  await res.arrayBuffer();
  return res.status;
}

describe('gantry registry revoke-tokens', () => {
  before(async () => {
    server = await start();
  });
  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('--help names the subcommand and its options', async () => {
    const r = await gantry(['registry', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: gantry registry revoke-tokens \[--principal ARN\] \[--output table\|json\]/);
    assert.match(r.stdout, /--endpoint URL/);
    const main = await gantry(['--help']);
    assert.match(main.stdout, /registry\s+Registry administration: revoke-tokens/);
  });

  it('revokes the caller’s tokens (table), then a named principal’s (JSON); new tokens work; refusals exit 1 or 2', async () => {
    const old = await loginPassword();
    assert.equal(await v2(old), 200);
    const table = await gantry(['registry', 'revoke-tokens', '--endpoint', server.url]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^PRINCIPAL\s+TOKENS ISSUED BEFORE\n/);
    assert.match(table.stdout, new RegExp(`arn:aws:iam::${ACCOUNT}:root\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z`));
    assert.equal(await v2(old), 401);
    await new Promise((r) => setTimeout(r, 5));
    const current = await loginPassword();
    assert.equal(await v2(current), 200);

    const json = await gantry(['registry', 'revoke-tokens', '--endpoint', server.url, '--principal', `arn:aws:iam::${ACCOUNT}:root`, '--output', 'json']);
    assert.equal(json.status, 0, json.stderr);
    const answer = JSON.parse(json.stdout) as { registryId: string; principalArn: string; revokedBefore: number };
    assert.equal(answer.principalArn, `arn:aws:iam::${ACCOUNT}:root`);
    assert.equal(answer.registryId, ACCOUNT);
    assert.ok(Math.abs(answer.revokedBefore * 1000 - Date.now()) < 60_000);
    assert.equal(await v2(current), 401);

    const bad = await gantry(['registry', 'revoke-tokens', '--endpoint', server.url, '--principal', 'arn:aws:iam::999999999999:root']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^gantry registry revoke-tokens: InvalidParameterException: Invalid parameter at 'principalArn'.*account 999999999999/);
    const unknown = await gantry(['registry', 'forget-tokens', '--endpoint', server.url]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown subcommand 'forget-tokens'/);
    const output = await gantry(['registry', 'revoke-tokens', '--output', 'yaml']);
    assert.equal(output.status, 2);
    assert.match(output.stderr, /--output must be table or json/);
  });

  it('the revocation is durable: after a restart the old token is still refused, a new one works', async () => {
    await new Promise((r) => setTimeout(r, 5));
    const old = await loginPassword();
    const r = await gantry(['registry', 'revoke-tokens', '--endpoint', server.url, '--output', 'json']);
    assert.equal(r.status, 0, r.stderr);
    await server.close();
    server = await start();
    assert.equal(await v2(old), 401);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(await v2(await loginPassword()), 200);
  });
});
