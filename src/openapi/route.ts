/**
 * GET /v1/openapi.json: the API's OpenAPI 3.1 document, for the company's
 * backend developers to generate clients from or import into Postman or
 * Bruno. docs/openapi.json is the one copy: the Worker serves that file as
 * it is, and test/openapi.test.ts checks the Worker's answers against it.
 * Served without a credential: it describes routes and shapes, never a
 * setting or a secret.
 */
import { Hono } from "hono";
import document from "../../docs/openapi.json";

export const openApiRoutes = new Hono<{ Bindings: Env }>();

openApiRoutes.get("/openapi.json", (c) => {
  c.header("cache-control", "public, max-age=300");
  return c.json(document);
});
