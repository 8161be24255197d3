import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { type Emulator, type FaultKind, startEmulator } from '@forage/github-emulator';
import { as, call, type Got } from './helpers.ts';

/** Issues one request and reports how it ended: a status and body, or a transport error code. */
function attempt(url: string, headers: Record<string, string>) {
  return new Promise<{ status?: number; text?: string; error?: string }>((resolve) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ status: res.statusCode, error: e.code ?? e.message }),
      );
      res.on('aborted', () => resolve({ status: res.statusCode, error: 'aborted' }));
      res.on('end', () =>
        resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.end();
  });
}

test('faults: each kind at rate 1 behaves as described and is counted', async (t) => {
  const expectations: Record<FaultKind, (r: Awaited<ReturnType<typeof attempt>>) => void> = {
    http500: (r) => {
      assert.equal(r.status, 500);
      assert.deepEqual(JSON.parse(r.text!), { message: 'Server Error' });
    },
    http502: (r) => {
      assert.equal(r.status, 502);
      assert.match(JSON.parse(r.text!).message, /couldn't respond to your request in time/);
    },
    http503: (r) => assert.equal(r.status, 503),
    reset: (r) => {
      assert.equal(r.status, undefined);
      assert.ok(['ECONNRESET', 'socket hang up'].includes(r.error!), r.error);
    },
    stall: (r) => {
      assert.equal(r.status, undefined);
      assert.ok(r.error, 'the stalled request ends in an error');
    },
    truncated: (r) => {
      assert.equal(r.status, 200);
      assert.ok(r.error ?? r.text, 'body cut short');
      if (r.text !== undefined) assert.throws(() => JSON.parse(r.text!));
    },
  };
  for (const kind of Object.keys(expectations) as FaultKind[]) {
    const emu = await startEmulator({
      dataset: 'synthetic:300',
      tokens: ['f'],
      faults: { [kind]: 1, stallMs: 200 },
    });
    t.after(() => emu.close());
    const r = await attempt(`${emu.url}/repositories`, as('f'));
    expectations[kind](r);
    const stats = emu.stats();
    assert.equal(stats.faults[kind], 1, kind);
    // Only a truncated response was actually served, so only it spent the limit.
    const used = (await call(`${emu.url}/_emulator/stats`)).json().served.repositories;
    assert.equal(used, kind === 'truncated' ? 100 : 0, kind);
  }
});

test('faults: a partial rate hits about that share of requests (seeded)', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:300',
    tokens: ['f'],
    faults: { http503: 0.2 },
    seed: 7,
  });
  t.after(() => emu.close());
  let failed = 0;
  for (let i = 0; i < 200; i++) {
    const r = await call(`${emu.url}/rate_limit`, { headers: as('f') });
    if (r.status === 503) failed++;
  }
  assert.ok(failed > 15 && failed < 70, `${failed} of 200`);
  assert.equal(emu.stats().faults.http503, failed);
});

test('stall: close() drops a stalled connection instead of waiting', async () => {
  const emu = await startEmulator({
    dataset: 'synthetic:10',
    tokens: ['f'],
    faults: { stall: 1, stallMs: 60_000 },
  });
  const pending = attempt(`${emu.url}/repositories`, as('f'));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(emu.stats().inFlight, 1);
  await emu.close();
  const r = await pending;
  assert.ok(r.error);
});

test('a client that hangs up in the middle of a GraphQL body is not reported as an emulator bug', async (t) => {
  // The request stream's 'aborted' error used to reach the handler's catch-all, which emits
  // "github-emulator: Error: aborted" as if the emulator had failed.
  const emu = await startEmulator({ dataset: 'synthetic:10', tokens: ['f'] });
  t.after(() => emu.close());
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const socket = connect(Number(new URL(emu.url).port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: t\r\nAuthorization: token f\r\n' +
      'Content-Length: 1000\r\n\r\n{"query":',
  );
  for (let i = 0; i < 100 && emu.stats().inFlight === 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(emu.stats().inFlight, 1);
  socket.destroy();
  for (let i = 0; i < 100 && emu.stats().inFlight > 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(emu.stats().inFlight, 0);
  await new Promise((r) => setTimeout(r, 50)); // warnings are emitted on the next tick
  assert.deepEqual(warnings, []);
});

test('latency: responses are delayed by at least mean - jitter', async (t) => {
  const emu = await startEmulator({
    dataset: 'synthetic:10',
    tokens: ['l'],
    latency: { meanMs: 80, jitterMs: 20 },
  });
  t.after(() => emu.close());
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await call(`${emu.url}/rate_limit`, { headers: as('l') });
    assert.ok(performance.now() - start >= 59);
  }
});

test('after close(), a request still waiting out its latency does not keep the process alive', async () => {
  // The latency timer was ref'd: a program that closed the emulator stayed up for as long as
  // the longest pending delay (here 60 s). The child is killed after 20 s if it hangs.
  const script = fileURLToPath(new URL('./fixtures/close-during-latency.mjs', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  const killer = setTimeout(() => child.kill(), 20_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(killer);
  assert.equal(out, 'in flight: 1\nclosed\n');
  assert.deepEqual([code, signal], [0, null], 'the process exited by itself');
});

test('ETag: If-None-Match gives 304 with no body and no charge when authorized', async (t) => {
  const emu = await startEmulator({ dataset: 'synthetic:300', tokens: ['e'] });
  t.after(() => emu.close());
  const first = await call(`${emu.url}/repositories?since=10`, { headers: as('e') });
  const etag = String(first.headers.etag);
  assert.match(etag, /^W\/"[0-9a-f]{32}"$/);
  const again = await call(`${emu.url}/repositories?since=10`, {
    headers: as('e', { 'if-none-match': etag }),
  });
  assert.equal(again.status, 304);
  assert.equal(again.text, '');
  assert.equal(again.headers.etag, etag);
  assert.equal(again.headers['x-ratelimit-used'], first.headers['x-ratelimit-used']);
  const other = await call(`${emu.url}/repositories?since=11`, {
    headers: as('e', { 'if-none-match': etag }),
  });
  assert.equal(other.status, 200, 'a different page has a different ETag');
  // Languages too.
  const [item] = first.json();
  const lang = await call(`${emu.url}/repositories/${item.id}/languages`, { headers: as('e') });
  if (lang.status === 200) {
    const cached = await call(`${emu.url}/repositories/${item.id}/languages`, {
      headers: as('e', { 'if-none-match': String(lang.headers.etag) }),
    });
    assert.equal(cached.status, 304);
  }
  // Without authorization a 304 still counts.
  const anon = { 'user-agent': 'x' };
  const a1 = await call(`${emu.url}/repositories`, { headers: anon });
  const a2 = await call(`${emu.url}/repositories`, {
    headers: { ...anon, 'if-none-match': String(a1.headers.etag) },
  });
  assert.equal(a2.status, 304);
  assert.equal(Number(a2.headers['x-ratelimit-used']), Number(a1.headers['x-ratelimit-used']) + 1);
});

test('ETag: every 200 languages response with an ETag honours it, renamed repositories too', async (t) => {
  // A renamed repository (reached by its id or new name) was served with an ETag, but
  // If-None-Match was only checked for 'ok' repositories: it got 200 and a charge every time.
  const emu = await startEmulator({
    dataset: 'synthetic:20',
    tokens: ['e'],
    repositoryRates: { renamed: 1 },
  });
  t.after(() => emu.close());
  const [item] = (await call(`${emu.url}/repositories`, { headers: as('e') })).json();
  const moved = await call(`${emu.url}/repos/${item.full_name}/languages`, { headers: as('e') });
  assert.equal(moved.status, 301);
  const target = String(moved.headers.location);
  const first = await call(target, { headers: as('e') });
  assert.equal(first.status, 200);
  const etag = String(first.headers.etag);
  const again = await call(target, { headers: as('e', { 'if-none-match': etag }) });
  assert.equal(again.status, 304);
  assert.equal(again.headers['x-ratelimit-used'], first.headers['x-ratelimit-used']);
});

test('gzip when asked, identical after decompression', async (t) => {
  const emu = await startEmulator({ dataset: 'synthetic:300', tokens: ['z'] });
  t.after(() => emu.close());
  const plain = await call(`${emu.url}/repositories`, { headers: as('z') });
  assert.equal(plain.headers['content-encoding'], undefined);
  const zipped = await new Promise<{ headers: any; body: Buffer }>((resolve, reject) => {
    request(
      `${emu.url}/repositories`,
      { headers: as('z', { 'accept-encoding': 'gzip, deflate' }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      },
    )
      .on('error', reject)
      .end();
  });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.match(zipped.headers.vary, /Accept-Encoding/);
  assert.ok(zipped.body.length < plain.text.length / 5);
  assert.equal(gunzipSync(zipped.body).toString(), plain.text);
});

test('Accept-Encoding weights: q=0 refuses gzip, * accepts it unless gzip is refused by name', async (t) => {
  const emu = await startEmulator({ dataset: 'synthetic:300', tokens: ['z'] });
  t.after(() => emu.close());
  const encodingFor = (acceptEncoding: string) =>
    new Promise<string | undefined>((resolve, reject) => {
      request(
        `${emu.url}/repositories`,
        { headers: as('z', { 'accept-encoding': acceptEncoding }) },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers['content-encoding']));
        },
      )
        .on('error', reject)
        .end();
    });
  for (const [header, expected] of [
    ['gzip;q=0', undefined],
    ['gzip; q=0.000, identity', undefined],
    ['br, gzip;q=0.5', 'gzip'],
    ['GZIP', 'gzip'],
    ['*', 'gzip'],
    ['*;q=0', undefined],
    ['gzip;q=0, *', undefined],
    ['identity', undefined],
    ['x-gzip', 'gzip'],
    ['notgzip', undefined],
  ] as const) {
    assert.equal(await encodingFor(header), expected, header);
  }
});

test('ETag: emulators whose content differs never share an ETag (rates, start id, blog file)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'emulator-etag-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fileA = join(dir, 'a.jsonl');
  const fileB = join(dir, 'b.jsonl');
  writeFileSync(fileA, '{"C":10}\n{}\n');
  writeFileSync(fileB, '{"Go":10}\n{}\n');
  const pairs: [string, object, object, string][] = [
    [
      'repositoryRates',
      { repositoryRates: { empty: 1, fork: 0 } },
      { repositoryRates: { empty: 0, fork: 1 } },
      'languages',
    ],
    [
      'repositoryRates',
      { repositoryRates: { fork: 0 } },
      { repositoryRates: { fork: 1 } },
      'listing',
    ],
    ['startId', { startId: 5 }, { startId: 5 + 0x7fffffff }, 'listing'],
    [
      'blog file',
      { dataset: `blog:${fileA}`, startId: 0 },
      { dataset: `blog:${fileB}`, startId: 0 },
      'languages',
    ],
  ];
  for (const [what, a, b, route] of pairs) {
    const base = { dataset: 'synthetic:100', tokens: ['e'] };
    const emus = await Promise.all([
      startEmulator({ ...base, ...a }),
      startEmulator({ ...base, ...a }),
      startEmulator({ ...base, ...b }),
    ]);
    try {
      // The first listed repository's languages, or the first listing page.
      const url = async (emu: Emulator) => {
        const listing = `${emu.url}/repositories`;
        if (route === 'listing') return listing;
        const [first] = (await call(listing, { headers: as('e') })).json();
        return `${emu.url}/repositories/${first.id}/languages`;
      };
      const [one, same, other] = await Promise.all(
        emus.map(async (emu) => call(await url(emu), { headers: as('e') })),
      );
      const body = (got: Got, emu: Emulator) => got.text.replaceAll(emu.url, 'URL');
      assert.notEqual(body(one!, emus[0]!), body(other!, emus[2]!), `${what}: the bodies differ`);
      assert.equal(one!.headers.etag, same!.headers.etag, `${what}: same content, same ETag`);
      assert.notEqual(one!.headers.etag, other!.headers.etag, `${what}: different ETags`);
      const revalidated = await call(await url(emus[2]!), {
        headers: as('e', { 'if-none-match': String(one!.headers.etag) }),
      });
      assert.equal(revalidated.status, 200, `${what}: a stale ETag is not 304`);
    } finally {
      await Promise.all(emus.map((emu) => emu.close()));
    }
  }
});
