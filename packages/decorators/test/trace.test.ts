import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { summarize, type TraceEvent, trace } from '@forage/decorators';
import { FakeClock } from './helpers/fake-clock.ts';

function recorder() {
  const lines: string[] = [];
  const events: TraceEvent[] = [];
  const log = (line: string, event: TraceEvent) => {
    lines.push(line);
    events.push(event);
  };
  return { lines, events, log };
}

describe('trace', () => {
  test('logs call, result and duration around a sync function', () => {
    const clock = new FakeClock();
    const r = recorder();
    const add = trace({ log: r.log, now: clock.now })(function add(a: number, b: number) {
      clock.advance(1.25);
      return a + b;
    });
    assert.equal(add(2, 3), 5);
    assert.deepEqual(r.lines, ['call add(2, 3)', 'done add -> 5 in 1.3 ms']);
    assert.equal(r.events[1]?.durationMs, 1.25);
    assert.equal(r.events[1]?.phase, 'return');
  });

  test('logs a thrown error and rethrows it', () => {
    const r = recorder();
    const fail = trace({ log: r.log, name: 'op', now: () => 0 })(() => {
      throw new TypeError('nope');
    });
    assert.throws(() => fail(), TypeError);
    assert.deepEqual(r.lines, ['call op()', 'fail op threw TypeError: nope after 0.0 ms']);
  });

  test('logs async results when they settle, and rejections are still rejections', async () => {
    const r = recorder();
    class Scraper {
      @trace({ log: r.log, now: () => 0 })
      async page(url: string, options: { token: string; retries: number }): Promise<string[]> {
        if (options.retries < 0) throw new Error('bad retries');
        return [url];
      }
    }
    const s = new Scraper();
    assert.deepEqual(await s.page('https://blog/1', { token: 'ghp_secret', retries: 2 }), [
      'https://blog/1',
    ]);
    await assert.rejects(s.page('u', { token: 't', retries: -1 }), /bad retries/);
    assert.deepEqual(r.lines, [
      'call page("https://blog/1", {token, retries})',
      'done page -> Array(1) in 0.0 ms',
      'call page("u", {token, retries})',
      'fail page threw Error: bad retries after 0.0 ms',
    ]);
    assert.ok(!r.lines.join('\n').includes('ghp_secret'), 'object values are never printed');
  });

  test('summaries redact credentials and stay short', () => {
    assert.equal(summarize('ghp_abcdefghijklmnopqrstuvwxyz0123456789'), '"[redacted]"');
    assert.equal(summarize('Bearer abc.def'), '"[redacted]"');
    assert.equal(summarize('a'.repeat(40)), '"[redacted]"', 'long key-like strings');
    assert.equal(summarize('hello world '.repeat(10), 20), '"hello world hello …');
    assert.equal(summarize(new Map([[1, 2]])), 'Map(1)');
    assert.equal(summarize(10n), '10n');
    assert.equal(summarize(null), 'null');
    assert.equal(summarize(new URL('https://x.org/')), 'URL {}');
    assert.equal(
      summarize(function named() {}),
      '[Function named]',
    );
  });

  test('credentials inside error messages and longer strings are redacted too', async () => {
    const token = `ghp_${'A1b2C3d4E5f6G7h8I9j0'}K1l2M3n4O5p6Q7r8`;
    const r = recorder();
    const get = trace({ log: r.log, now: () => 0 })(async function get(_url: string, auth: string) {
      throw new Error(`401 for ${auth}`);
    });
    await assert.rejects(get('https://api.github.com/user', token));
    const echo = trace({ log: r.log, now: () => 0 })(function echo(url: string) {
      return url;
    });
    echo(`https://x:${token}@github.com/a`);
    assert.deepEqual(r.lines, [
      'call get("https://api.github.com/user", "[redacted]")',
      'fail get threw Error: 401 for [redacted] after 0.0 ms',
      'call echo("https://[redacted]@github.com/a")',
      'done echo -> "https://[redacted]@github.com/a" in 0.0 ms',
    ]);
    // No part of the token survives, even where a summary is cut short.
    assert.ok(!r.lines.join('\n').includes(token.slice(4, 12)));
    for (const secret of [
      token,
      'gho_abc123',
      'ghu_abc123',
      'ghs_abc123',
      'ghr_abc123',
      `github_pat_11AAAA_${'x'.repeat(20)}`,
      'xoxb-1234-5678-abcdef',
      'sk-proj0123456789abcdefgh',
    ]) {
      assert.equal(summarize(`failed with ${secret}.`, 200), '"failed with [redacted]."', secret);
    }
    assert.equal(
      summarize('Authorization: Bearer abcdef0123456789abcdef', 200),
      '"Authorization: Bearer [redacted]"',
    );
    assert.equal(
      summarize('GET /x?access_token=abc&page=2', 200),
      '"GET /x?access_token=[redacted]&page=2"',
    );
    assert.equal(
      summarize(new Error(`clone https://${token}@github.com/o/r.git failed`), 200),
      'Error: clone https://[redacted]@github.com/o/r.git failed',
    );
    // Ordinary text, URLs and ids stay readable.
    const url = 'https://api.github.com/repositories/1333065091/languages';
    assert.equal(summarize(url, 200), JSON.stringify(url));
    assert.equal(summarize('the token is invalid', 200), '"the token is invalid"');
  });

  test('args: false and result: false hide values; the default logger is console.log', (t) => {
    const r = recorder();
    const login = trace({ log: r.log, args: false, result: false, now: () => 0 })(function login(
      _user: string,
      _password: string,
    ) {
      return 'session';
    });
    login('ann', 'hunter2');
    assert.deepEqual(r.lines, ['call login(…)', 'done login in 0.0 ms']);
    const logged = t.mock.method(console, 'log', () => {});
    trace()(() => 1)();
    assert.equal(logged.mock.callCount(), 2);
    assert.equal(logged.mock.calls[0]?.arguments[0], 'call anonymous()');
  });
});
