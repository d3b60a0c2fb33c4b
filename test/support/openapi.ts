/**
 * Checks answers of the running Worker against docs/openapi.json: finds the
 * operation and the documented answer for a status, validates the body
 * with a JSON Schema 2020-12 validator (the dialect of OpenAPI 3.1), and
 * remembers which documented answers the tests have seen, so a test can
 * require that every one of them was produced at least once.
 */
import { type Schema, Validator } from "@cfworker/json-schema";
import { expect } from "vitest";
import document from "../../docs/openapi.json";

export type Method = "get" | "put" | "post" | "delete";
export const METHODS: readonly Method[] = ["get", "put", "post", "delete"];

interface Reference {
  $ref: string;
}
interface MediaType {
  schema: Schema;
}
interface Answer {
  description: string;
  content?: Record<string, MediaType>;
  headers?: Record<string, { schema: Schema }>;
}
export interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, Answer | Reference>;
}
type PathItem = Partial<Record<Method, Operation>>;

export interface OpenApiDocument {
  openapi: string;
  security: Record<string, string[]>[];
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, Schema>; responses: Record<string, Answer> };
}

export const spec = document as unknown as OpenApiDocument;

/**
 * The component schemas as `$defs`, so `#/components/schemas/X` resolves
 * inside each schema checked (the validator indexes JSON Schema keywords
 * only, not OpenAPI's `components`).
 */
const defs = JSON.parse(JSON.stringify(spec.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/')) as Record<string, Schema>;

function validatorFor(schema: Schema): Validator {
  const local = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"#/$defs/')) as Schema;
  return new Validator({ ...local, $defs: defs }, "2020-12", false);
}

/** Every operation of the document, as `METHOD /path/{param}`. */
export function operations(): { method: Method; template: string; operation: Operation }[] {
  return Object.entries(spec.paths).flatMap(([template, item]) =>
    METHODS.flatMap((method) => (item[method] ? [{ method, template, operation: item[method]! }] : [])),
  );
}

/** The operation at `method` `template`; fails the test when the document has none. */
export function operationOf(method: Method, template: string): Operation {
  const operation = spec.paths[template]?.[method];
  expect(operation, `docs/openapi.json has no ${method.toUpperCase()} ${template}`).toBeDefined();
  return operation!;
}

function answerOf(operation: Operation, status: number): Answer | undefined {
  const answer = operation.responses[String(status)];
  if (answer && "$ref" in answer) return spec.components.responses[answer.$ref.replace("#/components/responses/", "")];
  return answer;
}

/** Fails with the validator's first errors when `value` does not fit `schema`. */
export function expectFits(schema: Schema, value: unknown, what: string): void {
  const result = validatorFor(schema).validate(value);
  const errors = result.errors.slice(0, 4).map((e) => `${e.instanceLocation} ${e.keyword}: ${e.error}`);
  expect(errors, `${what} does not fit docs/openapi.json:\n${JSON.stringify(value, null, 2).slice(0, 2000)}`).toEqual([]);
}

/** `METHOD template status` of every answer the tests have checked. */
export const seen = new Set<string>();
export const answerKey = (method: Method, template: string, status: number | string) => `${method.toUpperCase()} ${template} ${status}`;

/**
 * Checks one answer of `method template` against the document: the status
 * is listed, a JSON body fits the listed schema (an answer without content
 * has no body), listed headers are present. Returns the parsed body.
 */
export async function expectDocumented(method: Method, template: string, response: Response): Promise<unknown> {
  const what = answerKey(method, template, response.status);
  const answer = answerOf(operationOf(method, template), response.status);
  expect(answer, `${what} is not in docs/openapi.json (body: ${await response.clone().text()})`).toBeDefined();
  seen.add(what);
  return expectAnswer(what, answer!, response);
}

/** The key under which `seen` records an answer of `components.responses` that no operation lists. */
export const componentKey = (name: string) => `#/components/responses/${name}`;

/**
 * Checks an answer that no operation lists but `components.responses`
 * describes (405 for a method a documented path does not serve) the way
 * expectDocumented checks an operation's. Returns the parsed body.
 */
export async function expectComponentAnswer(name: string, response: Response): Promise<unknown> {
  const answer = spec.components.responses[name];
  expect(answer, `docs/openapi.json has no components.responses.${name}`).toBeDefined();
  seen.add(componentKey(name));
  return expectAnswer(`${componentKey(name)} (${response.status})`, answer!, response);
}

/** The methods of a documented path as an `Allow` header names them: upper case, HEAD with GET, sorted. */
export function documentedMethods(template: string): string[] {
  const item = spec.paths[template] ?? {};
  const methods = METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
  return (methods.includes("GET") ? [...methods, "HEAD"] : methods).sort();
}

async function expectAnswer(what: string, answer: Answer, response: Response): Promise<unknown> {
  for (const header of Object.keys(answer.headers ?? {})) expect(response.headers.get(header), `${what}: header ${header}`).not.toBeNull();
  const media = answer.content?.["application/json"];
  if (!media) {
    expect(await response.text(), `${what} has no content in the document`).toBe("");
    return undefined;
  }
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body: unknown = await response.json();
  expectFits(media.schema, body, what);
  return body;
}

/** Checks that a request body the Worker accepted fits the operation's request schema. */
export function expectAcceptedBody(method: Method, template: string, body: unknown): void {
  const media = operationOf(method, template).requestBody?.content["application/json"];
  expect(media, `${method.toUpperCase()} ${template} takes no body in docs/openapi.json`).toBeDefined();
  expectFits(media!.schema, body, `the body accepted by ${method.toUpperCase()} ${template}`);
}
