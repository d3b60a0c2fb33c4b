/**
 * Reads secrets that may hold several space-separated values (rotation:
 * the old and the new secret are both accepted until the old one is removed).
 */
import { ConfigurationError } from "./errors";

/** The non-empty, space-separated values of a secret; none when it is unset. */
export function secretValues(value: string | undefined): string[] {
  return (value ?? "").split(/\s+/).filter((v) => v.length > 0);
}

/** The non-empty, space-separated values of a secret; throws if none is set. */
export function secretList(value: string | undefined, name: string): string[] {
  const values = secretValues(value);
  if (values.length === 0) throw new ConfigurationError(name);
  return values;
}
