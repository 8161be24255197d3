import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { failureRecord, Journal, type LanguageStatus, languagesRecord } from '@forage/census';
import { BufferPool } from '../dist/buffers.js';
import { statusOfLine } from '../dist/finalize.js';
import { forEachLineBytes, idOfLine } from '../dist/journal.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'census-bytes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The lines forEachLineBytes reports, decoded. */
async function linesOf(path: string, chunkSize?: number): Promise<string[]> {
  const lines: string[] = [];
  await forEachLineBytes(path, (b, s, e) => lines.push(b.toString('utf8', s, e)), chunkSize);
  return lines;
}

test('forEachLineBytes gives whole lines across reads, grows for long ones, skips a torn tail', async (t) => {
  const path = join(tmp(t), 'j.jsonl');
  const long = 'x'.repeat(100);
  writeFileSync(path, `{"id":1}\n\n{"id":2,"s":"é€😀"}\n{"id":3,"s":"${long}"}\n{"id":4,"torn`);
  const want = ['{"id":1}', '{"id":2,"s":"é€😀"}', `{"id":3,"s":"${long}"}`];
  for (const chunkSize of [1, 3, 7, 16, 1 << 20]) {
    assert.deepEqual(await linesOf(path, chunkSize), want, `chunk size ${chunkSize}`);
  }
  assert.deepEqual(await linesOf(join(tmp(t), 'missing.jsonl')), []);
});

test('idOfLine reads the id the census writes first, and parses anything else', () => {
  const at = (line: string) => idOfLine(Buffer.from(line), 0, Buffer.byteLength(line));
  assert.equal(at('{"id":123,"node_id":"x"}'), 123);
  assert.equal(at('{"id":0}'), 0);
  assert.equal(at('{"id":900719925474099,"a":1}'), 900719925474099);
  // Not the census's own layout: JSON.parse decides.
  assert.equal(at('{"id":9007199254740991,"a":1}'), 9007199254740991);
  assert.equal(at('{ "id": 5 }'), 5);
  assert.equal(at('{"node_id":"x","id":6}'), 6);
  assert.equal(at('{"id":1e2}'), 100);
  // Within a larger buffer, only [start, end) counts.
  const b = Buffer.from('{"id":7}\n{"id":8,"x":1}\n');
  assert.equal(idOfLine(b, 9, 23), 8);
});

test('statusOfLine agrees with JSON.parse on every record the census writes', () => {
  const repo = { id: 1, full_name: 'o/r' };
  const tricky = [
    'o/r',
    'o/"status":"error"',
    'o/,"status":"ok"',
    'o/\\,"status":"blocked"',
    'ünï/cødé',
  ];
  const records = tricky.flatMap((full_name) => [
    languagesRecord({ ...repo, full_name }, { JavaScript: 10 }),
    languagesRecord({ ...repo, full_name }, {}),
    languagesRecord({ ...repo, full_name }, { status: 5 }),
    failureRecord({ ...repo, full_name }, 'not_found'),
    failureRecord({ ...repo, full_name }, 'blocked', 'dmca'),
    failureRecord({ ...repo, full_name }, 'error', ',"status":"ok" HTTP 500'),
  ]);
  for (const record of records) {
    const line = JSON.stringify(record);
    const bytes = Buffer.from(`${line}\n`);
    assert.equal(statusOfLine(bytes, 0, bytes.length - 1), record.status, line);
  }
  // Another layout falls back to JSON.parse.
  const other = Buffer.from('{"status":"empty","id":1}');
  assert.equal(statusOfLine(other, 0, other.length), 'empty' satisfies LanguageStatus);
});

test('journal lines are encoded as appended: multi-byte text and batches larger than the buffer', async (t) => {
  const path = join(tmp(t), 'j.jsonl');
  const { journal } = await Journal.open(path);
  const records: unknown[] = [];
  for (let i = 0; i < 3000; i++) {
    records.push({ id: i, s: i % 7 === 0 ? `é€😀${'\u2028'.repeat(i % 5)}` : 'x'.repeat(i % 300) });
  }
  for (const r of records.slice(0, 1000)) journal.append(r);
  const first = journal.flush();
  // Appended while the first batch is being written: a separate buffer.
  for (const r of records.slice(1000)) journal.append(r);
  await first;
  await journal.close();
  const text = readFileSync(path, 'utf8');
  assert.equal(text, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  assert.equal(journal.flushedBytes, Buffer.byteLength(text));
});

test('BufferPool: one chunk is used as it is, several are joined into a reused buffer', async () => {
  const pool = new BufferPool(2);
  const one = Buffer.from('single');
  assert.equal(await pool.read(Readable.from([one])), one);
  pool.give(one); // not the pool's: ignored
  const parts = [Buffer.from('ab'), Buffer.from('cd'), Buffer.from('é')];
  const joined = await pool.read(Readable.from(parts));
  assert.equal(joined.toString(), 'abcdé');
  pool.give(joined);
  const again = await pool.read(Readable.from([Buffer.from('xy'), Buffer.from('z')]));
  assert.equal(again.toString(), 'xyz');
  assert.equal(again.buffer, joined.buffer, 'the buffer given back is reused');
  assert.equal((await pool.read(Readable.from([]))).length, 0);
  // Best fit: a small body does not take the large buffer.
  const large = pool.take(1 << 20);
  const small = pool.take(10);
  pool.give(large);
  pool.give(small);
  assert.equal(pool.take(100).buffer, small.buffer);
  assert.equal(pool.take(100_000).buffer, large.buffer);
  // A failing stream leaves the pool usable.
  const failing = Readable.from(
    (async function* () {
      yield Buffer.from('a');
      throw new Error('reset');
    })(),
  );
  await assert.rejects(pool.read(failing), /reset/);
  // A known length: chunks are copied as they come; a body longer than announced still whole.
  const big = Buffer.alloc(200_000, 'a');
  big.write('end', big.length - 3);
  const pieces = [big.subarray(0, 65_536), big.subarray(65_536, 150_000), big.subarray(150_000)];
  const exact = await pool.read(Readable.from(pieces), big.length);
  assert.ok(exact.equals(big));
  pool.give(exact);
  // (A fresh pool: a kept buffer could be large enough to hide the overflow.)
  const longer = await new BufferPool().read(Readable.from(pieces), 100_000);
  assert.ok(longer.equals(big), 'longer than its content-length');
  const shorter = await pool.read(Readable.from(pieces.slice(0, 2)), big.length);
  assert.ok(shorter.equals(big.subarray(0, 150_000)));
  // Destroyed without an error: not a whole body either.
  const cut = new Readable({ read() {} });
  cut.push(Buffer.from('half'));
  setImmediate(() => cut.destroy());
  await assert.rejects(pool.read(cut), /ended early/);
});
