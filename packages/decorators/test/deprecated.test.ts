import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deprecated, trace } from '@forage/decorators';

describe('deprecated', () => {
  test('warns once per call site, and still calls through', () => {
    const warnings: [string, string][] = [];
    const old = deprecated('use add() instead', {
      warn: (m, site) => void warnings.push([m, site]),
    })(function sum(a: number, b: number) {
      return a + b;
    });
    for (let i = 0; i < 3; i++) assert.equal(old(i, 1), i + 1); // one call site, three calls
    old(0, 0); // a second call site
    assert.equal(warnings.length, 2);
    assert.equal(warnings[0]?.[0], 'sum() is deprecated: use add() instead');
    assert.match(warnings[0]?.[1] ?? '', /deprecated\.test\.ts/);
    assert.notEqual(warnings[0]?.[1], warnings[1]?.[1]);
  });

  test('call sites are found through other decorators stacked on top', () => {
    const sites: string[] = [];
    const old = trace({ log: () => {} })(
      deprecated('gone', { warn: (_m, site) => void sites.push(site) })(() => 1),
    );
    old();
    old();
    assert.equal(sites.length, 2);
    for (const site of sites) assert.match(site, /deprecated\.test\.ts/);
  });

  test('on a method, with the default DeprecationWarning', async (t) => {
    const emitted = t.mock.method(process, 'emitWarning', () => {});
    class Client {
      @deprecated('use fetchAll()')
      fetchEach(): number {
        return 1;
      }
    }
    new Client().fetchEach();
    assert.equal(emitted.mock.callCount(), 1);
    const [message, options] = emitted.mock.calls[0]!.arguments as unknown as [
      string,
      { type: string; code: string },
    ];
    assert.equal(message, 'fetchEach() is deprecated: use fetchAll()');
    assert.equal(options.type, 'DeprecationWarning');
    assert.equal(options.code, 'FORAGE_DEPRECATED');
    assert.throws(() => deprecated(''), { code: 'ERR_DECORATOR_OPTION' });
  });
});
