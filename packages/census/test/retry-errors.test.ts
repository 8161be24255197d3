import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CensusOptions, runCensus } from '@forage/census';
import { badRedirectApi, censusById, tempDir } from './helpers.ts';

const token = 'ghp_retryerrorstesttoken0000000000000cafe';
const bin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

test('retryErrors fetches again only the repositories recorded as error, and keeps one record each', async (t) => {
  let broken = true;
  const { base, hits } = await badRedirectApi(t, () => broken);
  const out = tempDir(t);
  const options: CensusOptions = { api: base, tokens: [token], out, via: 'rest', shards: 1 };

  const first = await runCensus(options);
  assert.equal(first.manifest.counts?.error, 1);
  assert.equal(censusById(out).languages.get(2)!.status, 'error');

  // Without the option an error record is final: a rerun asks for nothing.
  broken = false;
  await runCensus(options);
  assert.deepEqual([...hits.entries()].sort(), [
    [1, 1],
    [2, 1],
    [3, 1],
  ]);
  assert.equal(censusById(out).languages.get(2)!.status, 'error');

  const notices: string[] = [];
  const again = await runCensus(
    { ...options, retryErrors: true },
    { onProgress: (e) => e.type === 'notice' && notices.push(e.message) },
  );
  assert.deepEqual(
    [...hits.entries()].sort(),
    [
      [1, 1],
      [2, 2],
      [3, 1],
    ],
    'only repository 2 is asked again',
  );
  assert.ok(
    notices.includes(
      '--retry-errors: 1 repository whose languages failed before will be fetched again',
    ),
    notices.join('\n'),
  );
  // censusById fails on a duplicate id: the error record was replaced, not added to.
  const { languages } = censusById(out);
  assert.deepEqual(languages.get(2), {
    id: 2,
    full_name: 'o/r2',
    status: 'ok',
    languages: { C: 20 },
  });
  assert.equal(languages.size, 3);
  assert.equal(again.manifest.complete, true);
  assert.deepEqual(again.manifest.counts, {
    listed: 3,
    ok: 3,
    empty: 0,
    not_found: 0,
    blocked: 0,
    error: 0,
  });
});

test('retryErrors refuses a languages.jsonl with a line that is not a record, naming it, and changes nothing', async (t) => {
  const { base } = await badRedirectApi(t, () => true);
  const out = tempDir(t);
  const options: CensusOptions = { api: base, tokens: [token], out, via: 'rest', shards: 1 };
  await runCensus(options);
  const path = join(out, 'languages.jsonl');
  // A foreign line in the middle (a torn last line would be repaired, not refused).
  appendFileSync(path, 'not json\n{"id":9,"full_name":"o/r9","status":"ok","languages":{}}\n');
  const before = readFileSync(path, 'utf8');
  await assert.rejects(runCensus({ ...options, retryErrors: true }), (error: Error) => {
    assert.match(error.message, /languages\.jsonl line 4 is not a census record/);
    return true;
  });
  assert.equal(readFileSync(path, 'utf8'), before);
});

test('forage census --retry-errors fetches the error records again', async (t) => {
  let broken = true;
  const { base, hits } = await badRedirectApi(t, () => broken);
  const out = tempDir(t);
  const args = ['census', '--api', base, '--via', 'rest', '--shards', '1', '--out', out];
  const first = await forage([...args, '--no-report']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /error 1\b/);
  broken = false;
  const second = await forage([...args, '--no-report', '--retry-errors']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /--retry-errors: 1 repository whose languages failed before/);
  assert.match(second.stdout, /census complete: 3 repositories listed; ok 3, .* error 0/);
  assert.equal(hits.get(2), 2);
  assert.equal(censusById(out).languages.get(2)!.status, 'ok');
});

function forage(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, GITHUB_TOKEN: token, GH_TOKEN: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': the exit can come before the last of the output is read.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
