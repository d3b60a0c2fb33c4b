/**
 * What runs once a deploy has been read back and found exactly as
 * configured (and its secrets handled). Nothing yet: this is where the
 * settings self-check (POST /v1/check against each provider) belongs, so
 * it only ever runs against a Worker whose consumers, crons, workers.dev
 * switch, migrations and bindings were verified.
 */
import type { DeployConfig } from "./deploy-plan.ts";

export interface VerifiedDeploy {
  config: DeployConfig;
  accountId: string;
  /** The Worker's workers.dev origin. */
  origin: string;
  /** The names of the secrets the Worker has. */
  secrets: Set<string>;
}

/** Called at the end of every deploy whose read-back matched; resolves when its checks are done. */
export async function afterVerifiedDeploy(_deploy: VerifiedDeploy): Promise<void> {
  // Intentionally empty until the self-check exists.
}
