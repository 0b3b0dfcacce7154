// The vendor libraries loaded as classic scripts before our modules (templates/layout.tsx, templates/graph/graph.tsx),
// and the htmx events our modules listen to.
import type Htmx from "htmx.org";
import type { HtmxRequestConfig, HtmxResponseInfo } from "htmx.org";
import type * as VisNetwork from "vis-network/standalone";

declare global {
  const htmx: typeof Htmx;
  const vis: typeof VisNetwork;
  /** Swagger UI's bundle (templates/web/api-docs.tsx): the options our API page passes. */
  interface Window {
    SwaggerUIBundle?: (options: {
      url: string | undefined;
      domNode: HTMLElement;
      deepLinking: boolean;
      requestInterceptor: (req: { headers: Record<string, string> }) => unknown;
    }) => unknown;
  }

  interface DocumentEventMap {
    "htmx:configRequest": CustomEvent<HtmxRequestConfig>;
    "htmx:responseError": CustomEvent<HtmxResponseInfo>;
    "htmx:sendError": CustomEvent<HtmxResponseInfo>;
  }
}
