/**
 * REST response bodies, in the shape and key order GitHub uses (see
 * ../shared/notes/github-api.md §1-§3). Built as strings: the listing is the hot path.
 */
import type { Repo } from './dataset.js';
import { legacyNodeId } from './names.js';

const DOCS = 'https://docs.github.com';

/** One `GET /repositories` item: the 46 keys of a real listing item, in GitHub's order. */
export function listingItem(api: string, repo: Repo): string {
  const login = repo.owner;
  const full = `${login}/${repo.listedName}`;
  const r = `${api}/repos/${full}`;
  const u = `${api}/users/${login}`;
  const ownerNode = repo.ownerIsOrg
    ? legacyNodeId('Organization', repo.ownerId)
    : legacyNodeId('User', repo.ownerId);
  const description = repo.id % 3 === 0 ? 'null' : `"Synthetic repository ${repo.id}"`;
  return `{"id":${repo.id},"node_id":"${legacyNodeId('Repository', repo.id)}","name":"${repo.listedName}","full_name":"${full}","private":false,"owner":{"login":"${login}","id":${repo.ownerId},"node_id":"${ownerNode}","avatar_url":"https://avatars.githubusercontent.com/u/${repo.ownerId}?v=4","gravatar_id":"","url":"${u}","html_url":"https://github.com/${login}","followers_url":"${u}/followers","following_url":"${u}/following{/other_user}","gists_url":"${u}/gists{/gist_id}","starred_url":"${u}/starred{/owner}{/repo}","subscriptions_url":"${u}/subscriptions","organizations_url":"${u}/orgs","repos_url":"${u}/repos","events_url":"${u}/events{/privacy}","received_events_url":"${u}/received_events","type":"${repo.ownerIsOrg ? 'Organization' : 'User'}","user_view_type":"public","site_admin":false},"html_url":"https://github.com/${full}","description":${description},"fork":${repo.fork},"url":"${r}","forks_url":"${r}/forks","keys_url":"${r}/keys{/key_id}","collaborators_url":"${r}/collaborators{/collaborator}","teams_url":"${r}/teams","hooks_url":"${r}/hooks","issue_events_url":"${r}/issues/events{/number}","events_url":"${r}/events","assignees_url":"${r}/assignees{/user}","branches_url":"${r}/branches{/branch}","tags_url":"${r}/tags","blobs_url":"${r}/git/blobs{/sha}","git_tags_url":"${r}/git/tags{/sha}","git_refs_url":"${r}/git/refs{/sha}","trees_url":"${r}/git/trees{/sha}","statuses_url":"${r}/statuses/{sha}","languages_url":"${r}/languages","stargazers_url":"${r}/stargazers","contributors_url":"${r}/contributors","subscribers_url":"${r}/subscribers","subscription_url":"${r}/subscription","commits_url":"${r}/commits{/sha}","git_commits_url":"${r}/git/commits{/sha}","comments_url":"${r}/comments{/number}","issue_comment_url":"${r}/issues/comments{/number}","contents_url":"${r}/contents/{+path}","compare_url":"${r}/compare/{base}...{head}","merges_url":"${r}/merges","archive_url":"${r}/{archive_format}{/ref}","downloads_url":"${r}/downloads","issues_url":"${r}/issues{/number}","pulls_url":"${r}/pulls{/number}","milestones_url":"${r}/milestones{/number}","notifications_url":"${r}/notifications{?since,all,participating}","labels_url":"${r}/labels{/name}","releases_url":"${r}/releases{/id}","deployments_url":"${r}/deployments"}`;
}

/**
 * Writes a whole listing page as bytes into `target` (a pooled buffer) and returns the bytes
 * written. Each item is written as soon as it is built, so no page-sized string exists; names
 * are ASCII, so one char is one byte. Should the page outgrow `target`, it moves to a larger one.
 */
export function listingPage(api: string, repos: readonly Repo[], target?: Buffer): Buffer {
  if (repos.length === 0) return Buffer.from('[]');
  let out = target ?? Buffer.allocUnsafe(1 << 20);
  out[0] = 0x5b; // [
  let off = 1;
  for (let i = 0; i < repos.length; i++) {
    const item = listingItem(api, repos[i]!);
    if (off + item.length + 1 > out.length) {
      const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, off + item.length + 1));
      out.copy(bigger, 0, 0, off);
      out = bigger;
    }
    off += out.write(item, off, 'latin1');
    out[off++] = i === repos.length - 1 ? 0x5d : 0x2c; // ] or ,
  }
  return out.subarray(0, off);
}

/** The Link header of a listing page: `next` carries the last id on the page, `first` is a template. */
export function listingLink(api: string, lastIdOnPage: number | undefined): string {
  const first = `<${api}/repositories{?since}>; rel="first"`;
  return lastIdOnPage === undefined
    ? first
    : `<${api}/repositories?since=${lastIdOnPage}>; rel="next", ${first}`;
}

const json = (value: unknown) => JSON.stringify(value);

/** GitHub's error bodies. */
export const errorBodies = {
  notFound: (docs = `${DOCS}/rest`) =>
    json({ message: 'Not Found', documentation_url: docs, status: '404' }),
  languagesNotFound: () =>
    errorBodies.notFound(`${DOCS}/rest/repos/repos#list-repository-languages`),
  blocked: (reason: 'dmca' | 'tos' | 'unavailable', id: number) =>
    json({
      message: 'Repository access blocked',
      block: {
        reason,
        created_at: new Date(Date.UTC(2020, 0, 1) + (id % 1000) * 86_400_000)
          .toISOString()
          .replace('.000Z', 'Z'),
        html_url:
          reason === 'dmca'
            ? `https://github.com/github/dmca/blob/master/2020/01/2020-01-01-synthetic-${id}.md`
            : 'https://github.com/tos',
      },
    }),
  moved: (url: string) =>
    json({
      message: 'Moved Permanently',
      url,
      documentation_url: `${DOCS}/v3/#http-redirects`,
    }),
  badCredentials: () =>
    json({ message: 'Bad credentials', documentation_url: `${DOCS}/rest`, status: '401' }),
  graphqlUnauthenticated: () =>
    json({
      message: 'This endpoint requires you to be authenticated.',
      documentation_url: `${DOCS}/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql`,
    }),
  rateLimitedUser: (userId: number, status: number) =>
    json({
      message: `API rate limit exceeded for user ID ${userId}.`,
      documentation_url: `${DOCS}/rest/overview/rate-limits-for-the-rest-api`,
      status: String(status),
    }),
  rateLimitedAddress: (address: string) =>
    json({
      message: `API rate limit exceeded for ${address}. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)`,
      documentation_url: `${DOCS}/rest/overview/resources-in-the-rest-api#rate-limiting`,
    }),
  secondary: (requestId: string, status: number) =>
    json({
      message: `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
      documentation_url: `${DOCS}/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
      status: String(status),
    }),
  invalidSince: (value: string) =>
    json({
      message: `Invalid request.\n\nFor 'properties/since', ${JSON.stringify(value)} is not a non-negative integer.`,
      documentation_url: `${DOCS}/rest/repos/repos#list-public-repositories`,
      status: '422',
    }),
  badVersion: (version: string) =>
    json({
      message: `API version '${version}' is not supported. Supported versions: 2022-11-28, 2026-03-10.`,
      documentation_url: `${DOCS}/rest/about-the-rest-api/api-versions`,
      status: '400',
    }),
  problemsParsingJson: () =>
    json({ message: 'Problems parsing JSON', documentation_url: `${DOCS}/graphql`, status: '400' }),
  serverError: () => json({ message: 'Server Error' }),
  badGateway: () =>
    json({
      message:
        "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists.",
    }),
  unavailable: () =>
    json({
      message: 'Service Unavailable',
      documentation_url: `${DOCS}/rest`,
      status: '503',
    }),
};

/** The HTML GitHub sends when a request has no User-Agent. */
export const missingUserAgentBody =
  'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n';
