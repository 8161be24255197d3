import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runCensus } from '@forage/census';
import { type Cleanup, censusById, tempDir } from './helpers.ts';

const token = 'ghp_securitytesttoken0000000000000000f00d';

type Handler = (
  path: string,
  headers: IncomingHttpHeaders,
) => { status: number; headers?: Record<string, string>; body?: unknown };

/** A loopback server answering JSON; records every request it gets. */
async function server(
  t: Cleanup,
  handler: Handler,
): Promise<{ url: string; seen: Array<{ path: string; headers: IncomingHttpHeaders }> }> {
  const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const srv: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const reply = handler(req.url ?? '', req.headers);
    const rate = {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4000',
      'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
    };
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=utf-8',
      ...rate,
      ...reply.headers,
    });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen };
}

const rateLimitBody = {
  resources: {
    core: { limit: 5000, remaining: 4000, reset: Math.ceil(Date.now() / 1000) + 3600, used: 1000 },
    graphql: {
      limit: 5000,
      remaining: 4000,
      reset: Math.ceil(Date.now() / 1000) + 3600,
      used: 1000,
    },
  },
};

/** The listing page after `since` (from the request path) among `repos`. */
function page(path: string, repos: Array<{ id: number }>) {
  const since = Number(new URL(path, 'http://x').searchParams.get('since') ?? 0);
  return repos.filter((r) => r.id > since);
}

function repo(base: string, id: number) {
  return {
    id,
    node_id: `R_${id}`,
    name: `r${id}`,
    full_name: `o/r${id}`,
    fork: false,
    languages_url: `${base}/repos/o/r${id}/languages`,
  };
}

test('a Link rel="next" to another origin is refused and the other host never hears from us', async (t) => {
  const other = await server(t, () => ({ status: 200, body: [] }));
  const api = await server(t, (path) => {
    if (path === '/rate_limit') return { status: 200, body: rateLimitBody };
    if (path.startsWith('/repositories')) {
      return {
        status: 200,
        headers: { link: `<${other.url}/repositories?since=2>; rel="next"` },
        body: [repo('', 1), repo('', 2)],
      };
    }
    return { status: 404, body: { message: 'Not Found' } };
  });
  const dir = tempDir(t);
  await assert.rejects(runCensus({ api: api.url, tokens: [token], out: dir, via: 'rest' }), {
    code: 'ERR_CENSUS_PROTOCOL',
    message:
      /refused a Link rel="next" to another origin \(http:\/\/127\.0\.0\.1:\d+\); the token only goes to/,
  });
  assert.equal(other.seen.length, 0);
  for (const r of api.seen) assert.equal(r.headers.authorization, `Bearer ${token}`);
});

test('a redirect to another origin is refused and recorded as an error; same-origin ones are followed', async (t) => {
  const other = await server(t, () => ({ status: 200, body: { Evil: 1 } }));
  const api = await server(t, (path) => {
    if (path === '/rate_limit') return { status: 200, body: rateLimitBody };
    if (path.startsWith('/repositories?'))
      return { status: 200, body: page(path, [repo(api.url, 1), repo(api.url, 2)]) };
    if (path === '/repos/o/r1/languages')
      return {
        status: 301,
        headers: { location: `${other.url}/repos/o/r1/languages` },
        body: { message: 'Moved Permanently' },
      };
    if (path === '/repos/o/r2/languages')
      return {
        status: 301,
        headers: { location: '/repositories/2/languages' },
        body: { message: 'Moved Permanently' },
      };
    if (path === '/repositories/2/languages') return { status: 200, body: { Go: 10 } };
    return { status: 404, body: { message: 'Not Found' } };
  });
  const dir = tempDir(t);
  const result = await runCensus({ api: api.url, tokens: [token], out: dir, via: 'rest' });
  assert.equal(other.seen.length, 0, 'the other origin got nothing');
  const { languages } = censusById(dir);
  assert.equal(languages.get(1)!.status, 'error');
  assert.match(languages.get(1)!.error!, /redirect to another origin .* refused/);
  assert.deepEqual(languages.get(2), {
    id: 2,
    full_name: 'o/r2',
    status: 'ok',
    languages: { Go: 10 },
  });
  assert.equal(result.manifest.counts!.error, 1);
});

test('a languages_url on another host is not used: the URL is rebuilt on the API origin', async (t) => {
  const other = await server(t, () => ({ status: 200, body: { Evil: 1 } }));
  const api = await server(t, (path) => {
    if (path === '/rate_limit') return { status: 200, body: rateLimitBody };
    if (path.startsWith('/repositories?'))
      return { status: 200, body: page(path, [repo(other.url, 7)]) };
    if (path === '/repos/o/r7/languages') return { status: 200, body: { C: 3 } };
    return { status: 404, body: { message: 'Not Found' } };
  });
  const dir = tempDir(t);
  await runCensus({ api: api.url, tokens: [token], out: dir, via: 'rest' });
  assert.equal(other.seen.length, 0);
  assert.deepEqual(censusById(dir).languages.get(7)!.languages, { C: 3 });
});

test('a non-loopback API over plain http is refused before anything is sent', async () => {
  await assert.rejects(
    runCensus({ api: 'http://api.example.com', tokens: [token], out: '/nonexistent/never' }),
    {
      code: 'ERR_CENSUS_OPTION',
      message: /must use https/,
    },
  );
});

test('scrubTokens hides the whole of a token that another token is a part of', async () => {
  const { scrubTokens } = await import('@forage/census');
  // Made up here, and only ever in memory: the longer one begins with the shorter one.
  const short = `fake_${'s'.repeat(15)}`;
  const long = `${short}${'L'.repeat(11)}tail`;
  for (const tokens of [
    [short, long],
    [long, short],
  ]) {
    const text = scrubTokens(`a ${long} and ${short}.`, tokens);
    assert.equal(text, 'a …tail and …ssss.', `tokens in the order ${tokens.map((x) => x.length)}`);
  }
});

test('what a server echoes of the authorization header is scrubbed from every record it reaches', async (t) => {
  // Two made-up tokens, the first a part of the second (as a token and a longer one can be).
  const first = `fake_${'a'.repeat(15)}`;
  const second = `${first}${'b'.repeat(11)}9999`;
  const api = await server(t, (path, headers) => {
    if (path === '/rate_limit') return { status: 200, body: rateLimitBody };
    if (path.startsWith('/repositories?'))
      return { status: 200, body: page(path, [repo(api.url, 1), repo(api.url, 2)]) };
    const said = `you sent ${headers.authorization}`;
    if (path === '/repos/o/r1/languages')
      return { status: 403, body: { message: said, block: { reason: said } } };
    return { status: 200, body: { [said]: 5, Go: 7 } };
  });
  const dir = tempDir(t);
  await runCensus({ api: api.url, tokens: [first, second], out: dir, via: 'rest' });
  assert.ok(api.seen.some((r) => r.headers.authorization === `Bearer ${second}`));
  const { languages } = censusById(dir);
  const records = JSON.stringify([...languages.values()]);
  for (const secret of [first, second, second.slice(first.length)]) {
    assert.ok(!records.includes(secret), `${secret.length}-character part in ${records}`);
  }
  assert.equal(languages.get(1)!.status, 'blocked');
  assert.match(languages.get(1)!.reason!, /you sent Bearer …(aaaa|9999)/);
  assert.equal(languages.get(2)!.languages!.Go, 7);
});

test('a 401 whose message echoes the only token is a TokensRejected without the token', async (t) => {
  const { TokensRejected } = await import('@forage/census');
  const api = await server(t, (_path, headers) => ({
    status: 401,
    body: { message: `Bad credentials: ${headers.authorization}` },
  }));
  const dir = tempDir(t);
  const error = await runCensus({ api: api.url, tokens: [token], out: dir, via: 'rest' }).then(
    () => assert.fail('the census went on without a token'),
    (e: unknown) => e,
  );
  assert.ok(!String((error as Error).message).includes(token));
  assert.match(
    (error as Error).message,
    /token ghp_…f00d was rejected \(401 Bad credentials: Bearer ghp_…f00d\)/,
  );
  // The census's own error is a fresh CensusError; the client's keeps its class and positions.
  const { ApiClient, BudgetScheduler, githubLimits } = await import('@forage/census');
  const client = new ApiClient({
    api: new URL(api.url),
    tokens: [token],
    scheduler: new BudgetScheduler(1, githubLimits),
  });
  t.after(() => client.close());
  const sent = await client.send({ kind: 'rest', endpoint: 'rest:/x', url: client.url('x') }).then(
    () => assert.fail('a 401 was taken for an answer'),
    (e: unknown) => e,
  );
  assert.ok(sent instanceof TokensRejected, String(sent));
  assert.deepEqual(sent.tokenIndexes, [0]);
  assert.ok(!sent.message.includes(token));
});

test("a retired token's notice is one line, whatever lines the server's 401 message has", async (t) => {
  // Made up here: the first is rejected, the second works.
  const rejected = `fake_${'r'.repeat(24)}0001`;
  const good = `fake_${'g'.repeat(24)}0002`;
  const api = await server(t, (path, headers) => {
    if (headers.authorization === `Bearer ${rejected}`) {
      return {
        status: 401,
        body: { message: 'Bad credentials\nforage census: census complete: all is well\r\n' },
      };
    }
    if (path === '/rate_limit') return { status: 200, body: rateLimitBody };
    if (path.startsWith('/repositories?')) return { status: 200, body: page(path, []) };
    return { status: 200, body: {} };
  });
  const notices: string[] = [];
  await runCensus(
    { api: api.url, tokens: [rejected, good], out: tempDir(t), via: 'rest' },
    { onProgress: (e) => e.type === 'notice' && notices.push(e.message) },
  );
  const retired = notices.filter((n) => n.includes('token 1 of 2 was rejected'));
  assert.equal(retired.length, 1, notices.join('\n'));
  assert.doesNotMatch(retired[0]!, /[\r\n]/);
  assert.match(retired[0]!, /401 Bad credentials forage census: census complete: all is well\)/);
});
