// The real 2016 census served back: list every repository, ask each for its languages, and get
// exactly the file's objects, in the file's order.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EmulatorError, startEmulator } from '@forage/github-emulator';
import { pipelinedGet, requireSharedData, startInChild } from './helpers.ts';

function get(agent: Agent, url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    request(
      url,
      { agent, headers: { authorization: 'token b', 'user-agent': 'blog-test' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    )
      .on('error', reject)
      .end();
  });
}

test("the 2016 file: 100,000 listed repositories answer exactly the file's objects, in order", async (t) => {
  const file = `${requireSharedData()}/github-2016/lang_data.jsonl`;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  assert.equal(lines.length, 100_000);
  // The server runs in its own process so that it and this client each get a core.
  const emu = await startInChild({
    dataset: `blog:${file}`,
    tokens: ['b'],
    secondaryLimit: false,
    rateLimit: { core: { limit: 1_000_000, windowMs: 3_600_000 } },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  t.after(async () => {
    agent.destroy();
    await emu.close();
  });
  const t0 = performance.now();
  assert.equal(emu.dataset.startId, 76_761_293);
  const repos: { id: number; url: string }[] = [];
  let next: string | undefined = `${emu.url}/repositories?since=${emu.dataset.startId}`;
  while (next) {
    const res = await get(agent, next);
    const page = JSON.parse(res.text) as { id: number; languages_url: string }[];
    for (const r of page) repos.push({ id: r.id, url: r.languages_url });
    next = page.length ? `${emu.url}/repositories?since=${page.at(-1)!.id}` : undefined;
  }
  const t1 = performance.now();
  assert.equal(repos.length, 100_000);
  assert.ok(repos[0]!.id > 76_761_293);
  const answers = await pipelinedGet(
    emu.url,
    repos.map((r) => new URL(r.url).pathname),
    { authorization: 'token b', 'user-agent': 'blog-test' },
  );
  const bodies = answers.map((a, i) => {
    assert.equal(a.status, 200, repos[i]!.url);
    return a.body;
  });
  t.diagnostic(
    `listing ${Math.round(t1 - t0)} ms, languages ${Math.round(performance.now() - t1)} ms`,
  );
  for (let i = 0; i < lines.length; i++) {
    if (bodies[i] !== lines[i])
      assert.fail(`line ${i + 1}: got ${bodies[i]}, file has ${lines[i]}`);
  }
  // Same objects, not just the same text: key order is the file's (bytes descending).
  assert.deepEqual(Object.keys(JSON.parse(bodies[9]!)), Object.keys(JSON.parse(lines[9]!)));
  const stats = JSON.parse((await get(agent, `${emu.url}/_emulator/stats`)).text);
  assert.equal(stats.overLimit.total, 0);
  assert.equal(stats.served.languages, 100_000);
});

test('blog datasets: a bad line is reported with its number and the fix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-blog-'));
  try {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, '{"C":10}\n{"Go":"many"}\n');
    await assert.rejects(
      startEmulator({ dataset: `blog:${path}` }),
      (e: unknown) =>
        e instanceof EmulatorError &&
        e.code === 'ERR_EMULATOR_DATASET' &&
        /bad\.jsonl:2: .*"Go"/.test(e.message),
    );
    writeFileSync(path, '{"C":10}\nnot json\n');
    await assert.rejects(startEmulator({ dataset: `blog:${path}` }), /bad\.jsonl:2: not JSON/);
    await assert.rejects(startEmulator({ dataset: `blog:${join(dir, 'absent.jsonl')}` }), /ENOENT/);
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, '{"C":10,"Shell":3}\r\n{}\r\n');
    const emu = await startEmulator({ dataset: `blog:${good}`, startId: 0 });
    try {
      assert.equal(emu.dataset.repositories, 2);
    } finally {
      await emu.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
