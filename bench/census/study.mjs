// Child process: the 2016 study's method, as its two scripts did it, against the emulator.
// 1. Follow `Link: rel="next"` from /repositories?since=SINCE, one page at a time, keeping id,
//    name and languages_url (repo_scraper.py).
// 2. Call each languages_url one after the other, write `{}` on any HTTP error, and sleep until
//    X-RateLimit-Reset whenever X-RateLimit-Remaining reaches 0 (language_scraper.py).
// It gets a keep-alive connection (the study's requests.get opened a new one per call), which
// only makes it faster. Usage: node study.mjs '{"api":…,"token":…,"since":0,"repos":5000}'
import { request } from 'undici';

const { api, token, since, repos } = JSON.parse(process.argv[2]);
const headers = { authorization: `token ${token}`, 'user-agent': 'study-2016' };
const started = performance.now();
let requests = 0;
let sleptMs = 0;

async function get(url) {
  requests++;
  const res = await request(url, { headers });
  const text = await res.body.text();
  const remaining = Number(res.headers['x-ratelimit-remaining']);
  const reset = Number(res.headers['x-ratelimit-reset']);
  if (remaining === 0) {
    const wait = Math.max(0, reset * 1000 - Date.now()) + 30_000;
    sleptMs += wait;
    await new Promise((r) => setTimeout(r, wait));
  }
  return { status: res.statusCode, headers: res.headers, text };
}

const listed = [];
let url = `${api}/repositories?since=${since}`;
while (listed.length < repos && url) {
  const res = await get(url);
  for (const item of JSON.parse(res.text)) {
    if (listed.length < repos)
      listed.push({ id: item.id, name: item.name, languages_url: item.languages_url });
  }
  const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.link ?? '');
  url = next ? next[1] : undefined;
}
const listedMs = performance.now() - started;
let empty = 0;
for (const repo of listed) {
  const res = await get(repo.languages_url);
  const line = res.status === 200 ? res.text : '{}';
  if (line === '{}') empty++;
}
const wallMs = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ wallMs, listedMs, requests, sleptMs, repos: listed.length, empty })}\n`,
);
