import { z } from "zod";
import { ApiDocsPage } from "../../templates/web/api-docs.tsx";
import { pageProps } from "./page-props.ts";
import { openApiDocument } from "./openapi.ts";
import { route, type Route } from "./route.ts";
import { html, json } from "./schemas.ts";

/** The OpenAPI document and its viewer, over every route the app declares (read when first asked for). */
export function docsRoutes(all: () => readonly Route[]): Route[] {
  let doc: ReturnType<typeof openApiDocument> | undefined;
  return [
    route({
      method: "get",
      path: "/api/v1/openapi.json",
      access: "signed-in",
      group: "meta",
      summary: "This document: every /api/v1 route with its parameters, bodies and answers (OpenAPI 3.1)",
      responses: {
        200: json(
          z
            .object({ openapi: z.string(), info: z.object({ title: z.string(), version: z.string() }).loose(), paths: z.record(z.string(), z.unknown()) })
            .loose(),
          "The OpenAPI document",
        ),
      },
      handler: (c) => c.json((doc ??= openApiDocument(all()))),
    }),
    route({
      method: "get",
      path: "/api/docs",
      access: "signed-in",
      summary: "The API reference page (Swagger UI, embedded)",
      responses: { 200: html() },
      handler: (c) => c.html(ApiDocsPage(pageProps(c))),
    }),
  ];
}
