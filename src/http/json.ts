/**
 * Request bodies are parsed in one place, so every route answers malformed
 * JSON with the same 400 `invalid_json`.
 */
import { ValidationError } from "../errors";

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError("invalid_json", undefined, "the body is not valid JSON", error);
  }
}
