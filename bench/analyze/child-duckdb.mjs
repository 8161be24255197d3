// Plain JavaScript (not TypeScript) so that the tsx loader does not count in this process's peak RSS.
// One timed run of DuckDB answering the same totals (bytes and repositories per language) over
// the same file: read_json_objects + json_keys, all threads. Prints { ms, cpuMs, maxRssMb, top }.
import { DuckDBInstance } from '@duckdb/node-api';

const [file] = process.argv.slice(2);
const quoted = `'${file.replace(/'/g, "''")}'`;
const start = performance.now();
const cpu0 = process.cpuUsage();
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const result = await con.runAndReadAll(`
  WITH objects AS (SELECT json FROM read_json_objects(${quoted}, format = 'newline_delimited')),
       entries AS (SELECT json, unnest(json_keys(json)) AS lang FROM objects)
  SELECT lang, sum(CAST(json ->> lang AS BIGINT)) AS bytes, count(*) AS repos
  FROM entries GROUP BY lang`);
const rows = result.getRows();
const ms = performance.now() - start;
const byBytes = [...rows].sort((a, b) => Number(b[1] - a[1])).slice(0, 10);
const byRepos = [...rows].sort((a, b) => Number(b[2] - a[2])).slice(0, 10);
const top = {
  totalSize: byBytes.map((r) => [r[0], Number(r[1])]),
  reposAppearedIn: byRepos.map((r) => [r[0], Number(r[2])]),
};
// CPU of the timed work only (all threads), like the wall time: module loading is left out.
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    top,
  }),
);
con.closeSync();
