import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { createHash } from "node:crypto";

// Page modules import "three" and its addons by name; every file is embedded and served under /static/vendor/.
const IMPORT_MAP = JSON.stringify({ imports: { three: "/static/vendor/three.module.js", "three/addons/": "/static/vendor/three/addons/" } });

/**
 * What a Content-Security-Policy's script-src must allow for these pages: our own files; the import map, the one
 * inline script element (data, not code, yet CSP counts it), by its hash; and WebAssembly compilation (no JS eval),
 * which the mesh viewer's meshopt decoder needs.
 */
export const SCRIPT_SRC = `'self' 'sha256-${createHash("sha256").update(IMPORT_MAP).digest("base64")}' 'wasm-unsafe-eval'`;

/**
 * The page frame every page shares: header with search and navigation for a signed-in account (signed out, only the
 * brand and a sign-in link, as everything else would lead back to the sign-in page), and embedded assets only.
 */
export function Layout(props: { title: string; user?: { name: string; isAdmin: boolean } | null; csrf?: string; children?: Child }) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {props.csrf ? <meta name="csrf-token" content={props.csrf} /> : null}
          <title>{props.title} · Mata</title>
          <link rel="icon" href="data:," />
          <link rel="stylesheet" href="/static/app.css" />
          <link rel="stylesheet" href="/static/search.css" />
          <script type="importmap" dangerouslySetInnerHTML={{ __html: IMPORT_MAP }}></script>
          {/* Deferred classic scripts and modules run in document order: htmx first, then the modules that use it. */}
          <script src="/static/vendor/htmx.min.js" defer></script>
          <script type="module" src="/static/app.js"></script>
        </head>
        <body>
          <header class="top">
            <a class="brand" href="/">
              Mata
            </a>
            {props.user ? (
              <>
                <nav>
                  <a href="/datasets">Datasets</a>
                  <a href="/tags">Tags</a>
                </nav>
                <form class="search" action="/search" method="get" role="search">
                  <input
                    type="search"
                    name="q"
                    placeholder="Search datasets"
                    aria-label="Search datasets"
                    autocomplete="off"
                    hx-get="/search/suggest"
                    hx-trigger="input changed delay:200ms, search"
                    hx-target="#search-suggest"
                    hx-swap="outerHTML"
                  />
                  <div id="search-suggest" class="search-suggest"></div>
                </form>
                {props.user.isAdmin ? <a href="/jobs">Jobs</a> : null}
                {props.user.isAdmin ? <a href="/fixity">Fixity</a> : null}
                <a href="/audit" title="Who changed, shared and downloaded what (your datasets; everything for admins)">
                  Audit
                </a>
                <a class="who" href="/account" title="Your account: API tokens, password, sign out">
                  {props.user.name}
                </a>
              </>
            ) : (
              <a class="sign-in" href="/login">
                Sign in
              </a>
            )}
          </header>
          <main id="main">{props.children}</main>
        </body>
      </html>
    </>
  );
}
