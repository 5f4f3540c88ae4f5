import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

/** Where GraphiQL's files are served from: the installed @graphql-yoga/graphiql package, never a CDN. */
export const GRAPHIQL_ASSETS_PATH = '/graphiql/';

const DIST = path.dirname(createRequire(import.meta.url).resolve('@graphql-yoga/graphiql'));
const VERSION = (createRequire(import.meta.url)('@graphql-yoga/graphiql/package.json') as { version: string }).version;
const ASSETS = new Map([
  ['yoga-graphiql.umd.js', 'text/javascript; charset=utf-8'],
  ['graphiql.css', 'text/css; charset=utf-8'],
  ['monacoeditorwork/editor.worker.bundle.js', 'text/javascript; charset=utf-8'],
  ['monacoeditorwork/json.worker.bundle.js', 'text/javascript; charset=utf-8'],
  ['monacoeditorwork/graphql.worker..bundle.js', 'text/javascript; charset=utf-8'],
]);

const asset = (name: string) => `${GRAPHIQL_ASSETS_PATH}${VERSION}/${name}`;
/** JSON that is safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replaceAll('<', '\\u003c');
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The GraphiQL page: yoga's own GraphiQL (headers editor, subscriptions over SSE), with every file
 * it loads (script, styles, editor workers) served by this gateway, so it works offline.
 */
export function renderGraphiQL(options: GraphiQLOptions): string {
  const title = escapeHtml(options.title ?? 'GraphiQL');
  // This build of GraphiQL opens with `query`; yoga's option is called defaultQuery.
  const page = { ...options, query: (options as { query?: string }).query ?? options.defaultQuery };
  const workers = {
    editorWorkerService: asset('monacoeditorwork/editor.worker.bundle.js'),
    json: asset('monacoeditorwork/json.worker.bundle.js'),
    graphql: asset('monacoeditorwork/graphql.worker..bundle.js'),
  };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<link rel="stylesheet" href="${asset('graphiql.css')}"></head>
<body id="body" class="no-focus-outline"><noscript>You need to enable JavaScript to run GraphiQL.</noscript><div id="root">Loading ${title}...</div>
<script>
const workers = ${scriptJson(workers)};
self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_id, label) => workers[label] ?? workers.editorWorkerService };
</script>
<script src="${asset('yoga-graphiql.umd.js')}"></script>
<script>YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), ${scriptJson(page)});</script>
</body></html>`;
}

/** Serves GraphiQL's files from the installed package; they never change for a version, so they cache forever. */
export function useGraphiQLAssets(): Plugin {
  const prefix = `${GRAPHIQL_ASSETS_PATH}${VERSION}/`;
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(GRAPHIQL_ASSETS_PATH) || request.method !== 'GET') return;
      const name = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : '';
      const contentType = ASSETS.get(name);
      if (!contentType) {
        endResponse(new fetchAPI.Response('not found', { status: 404 }));
        return;
      }
      const body = await readFile(path.join(DIST, name));
      endResponse(
        new fetchAPI.Response(body, {
          headers: { 'content-type': contentType, 'cache-control': 'public, max-age=31536000, immutable' },
        }),
      );
    },
  };
}
