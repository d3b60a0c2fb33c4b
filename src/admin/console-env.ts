/**
 * What every console route and page shares: the Worker's bindings and the
 * signed-in operator. Its own module, so the session, CSRF and sign-in
 * code can all use it without importing one another.
 */

/** The signed-in operator, as the pages show them. */
export type ConsoleUser =
  | { kind: "access"; email: string | null; subject: string }
  | { kind: "session"; expiresAt: number };

export type ConsoleEnv = { Bindings: Env; Variables: { user: ConsoleUser; csrf: string } };
