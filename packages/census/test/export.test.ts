import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportCensus } from '@forage/census';
import { tempDir } from './helpers.ts';

const repoLine = (id: number, name = `owner${id % 7}/repo-${id}`) =>
  JSON.stringify({
    id,
    node_id: `N${id}`,
    full_name: name,
    fork: false,
    languages_url: `http://127.0.0.1:9/repos/${name}/languages`,
  });

/** What the study's format holds for a census, computed the simple way (all in memory). */
function expected(dir: string): { all: string; lang: string } {
  const lines = (file: string) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .slice(0, -1) // an unfinished last line is not a record
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const langs = new Map<number, string>();
  for (const r of lines('languages.jsonl')) {
    langs.set(
      r.id,
      r.languages && (r.status === 'ok' || r.status === 'empty')
        ? JSON.stringify(r.languages)
        : '{}',
    );
  }
  const repos = lines('repos.jsonl').sort((a, b) => a.id - b.id);
  const all = repos.map(
    (r) =>
      `{"id": ${r.id}, "name": ${JSON.stringify(r.full_name.slice(r.full_name.indexOf('/') + 1))}, "languages_url": ${JSON.stringify(r.languages_url)}}\n`,
  );
  return { all: all.join(''), lang: repos.map((r) => `${langs.get(r.id)}\n`).join('') };
}

test('export: unsorted shards, duplicate records (the last wins), blank lines, long lines, torn tail', async (t) => {
  const dir = tempDir(t);
  const big = Object.fromEntries(Array.from({ length: 9000 }, (_, i) => [`Lang${i}`, i + 1]));
  const repos = [30, 10, 20, 5, 40, 10, 25].map((id) => repoLine(id));
  repos.splice(2, 0, '', repoLine(7, 'someone/ünïcode-名前'));
  writeFileSync(join(dir, 'repos.jsonl'), `${repos.join('\n')}\n{"id":99,"node_`);
  const languages = [
    { id: 40, status: 'ok', languages: big }, // longer than the reader's window
    { id: 5, status: 'blocked' },
    { id: 10, status: 'ok', languages: { C: 1 } },
    { id: 7, status: 'ok', languages: { 'C++': 2, Go: 1 } },
    { id: 30, status: 'empty', languages: {} },
    { id: 20, status: 'error' },
    { id: 10, status: 'ok', languages: { Rust: 3 } },
    { id: 25, status: 'not_found' },
  ].map((r) => JSON.stringify(r));
  writeFileSync(join(dir, 'languages.jsonl'), `${languages.join('\n\n')}\n`);
  const result = await exportCensus(dir, { format: 'blog' });
  assert.equal(result.repos, 8);
  assert.equal(result.inexpressible, 3);
  const want = expected(dir);
  assert.equal(readFileSync(join(dir, 'all_repos.jsonl'), 'utf8'), want.all);
  assert.equal(readFileSync(join(dir, 'lang_data.jsonl'), 'utf8'), want.lang);
  assert.match(want.lang, /^\{\}\n\{"C\+\+":2,"Go":1\}\n\{"Rust":3\}\n\{"Rust":3\}\n\{\}\n/);
});

test('export holds an index, not the records: 100,000 repositories fit in a 32 MB heap', async (t) => {
  const dir = tempDir(t);
  const write = (file: string, line: (i: number) => string) =>
    new Promise<void>((resolve, reject) => {
      const out = createWriteStream(join(dir, file));
      out.on('error', reject);
      // Ids in 16 interleaved runs, as shards append them, so the export has to sort.
      for (let i = 0; i < 100_000; i++) out.write(`${line((i % 16) * 100_000 + i)}\n`);
      out.end(resolve);
    });
  await write('repos.jsonl', (id) => repoLine(id));
  await write('languages.jsonl', (id) =>
    JSON.stringify({ id, status: 'ok', languages: { JavaScript: id, TypeScript: 17, Shell: 3 } }),
  );
  // The strings the export used to keep ran out of a 32 MB heap here; its index lives outside
  // the heap (typed arrays) and the records it reads back are garbage at once.
  const script = `const { exportCensus } = await import(${JSON.stringify(import.meta.resolve('@forage/census'))});
const r = await exportCensus(${JSON.stringify(dir)}, { format: 'blog' });
process.stdout.write(String(r.repos));`;
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=32', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  assert.equal(r.stdout, '100000');
  const want = expected(dir);
  assert.equal(readFileSync(join(dir, 'lang_data.jsonl'), 'utf8'), want.lang);
  assert.equal(readFileSync(join(dir, 'all_repos.jsonl'), 'utf8'), want.all);
});
