import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { forEachLine, Journal, JournalTail, readLines } from '@forage/census';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'census-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a journal appends in flushed batches and nothing is on disk before a flush', async (t) => {
  const path = join(tmp(t), 'j.jsonl');
  const { journal, repairedBytes } = await Journal.open(path);
  assert.equal(repairedBytes, 0);
  journal.append({ id: 1 });
  journal.append({ id: 2, s: 'é' });
  assert.equal(readFileSync(path, 'utf8'), '');
  await journal.flush();
  assert.equal(readFileSync(path, 'utf8'), '{"id":1}\n{"id":2,"s":"é"}\n');
  assert.equal(journal.flushedBytes, Buffer.byteLength('{"id":1}\n{"id":2,"s":"é"}\n'));
  journal.append({ id: 3 });
  await journal.close();
  assert.equal(readFileSync(path, 'utf8').split('\n').length, 4);
});

test('open cuts a torn last line, and a last line that is not JSON', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'j.jsonl');
  writeFileSync(path, '{"id":1}\n{"id":2}\n{"id":3,"la');
  const first = await Journal.open(path);
  assert.equal(first.repairedBytes, '{"id":3,"la'.length);
  first.journal.append({ id: 3 });
  await first.journal.close();
  assert.equal(readFileSync(path, 'utf8'), '{"id":1}\n{"id":2}\n{"id":3}\n');
  appendFileSync(path, '{"id":4,\u0000\u0000}\n');
  const second = await Journal.open(path);
  assert.ok(second.repairedBytes > 0);
  await second.journal.close();
  assert.equal(readFileSync(path, 'utf8'), '{"id":1}\n{"id":2}\n{"id":3}\n');
  writeFileSync(path, 'no newline at all');
  const third = await Journal.open(path);
  await third.journal.close();
  assert.equal(readFileSync(path, 'utf8'), '');
});

test('readers see whole lines only, across chunk boundaries and multi-byte characters', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'big.jsonl');
  const lines = Array.from({ length: 20_000 }, (_, i) =>
    JSON.stringify({ id: i, name: `ü${'x'.repeat(i % 50)}` }),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
  const seen: string[] = [];
  await forEachLine(path, (l) => seen.push(l));
  assert.deepEqual(seen, lines);
  const streamed: string[] = [];
  for await (const l of readLines(path)) streamed.push(l);
  assert.deepEqual(streamed, lines);
  const tail = new JournalTail(path);
  const tailed: string[] = [];
  const size = Buffer.byteLength(`${lines.join('\n')}\n`);
  for (;;) {
    const got = await tail.read(size, 4096);
    if (got.length === 0 && tailed.length === lines.length) break;
    tailed.push(...got);
  }
  await tail.close();
  assert.deepEqual(tailed, lines);
  await forEachLine(join(dir, 'missing.jsonl'), () => assert.fail('no lines'));
});

test('a write failure becomes ERR_CENSUS_WRITE naming the file and the fix', async (t) => {
  const dir = tmp(t);
  const { journal } = await Journal.open(join(dir, 'j.jsonl'));
  journal.append({ id: 1 });
  await journal.close();
  // Writing to a closed file fails like a vanished disk would.
  journal.append({ id: 2 });
  await assert.rejects(journal.flush(), { code: 'ERR_CENSUS_WRITE', message: /j\.jsonl/ });
  assert.throws(() => journal.append({ id: 3 }), { code: 'ERR_CENSUS_WRITE' });
});
