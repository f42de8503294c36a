// The admin key every spindleSuite starts Spindle with (SPINDLE_ADMIN_KEY), and the header that
// sends it: the suites call the native API as its users do, with a key. Dialect ports are `open`
// in the suites (SPINDLE_DIALECT_AUTH) unless a suite's env says otherwise, so a dialect suite
// calls them as that system's clients do, without credentials.
export const TEST_ADMIN_KEY = 'spindle-test-admin-key-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TEST_ADMIN_KEY}` } as const;

export function withAuth(headers: Record<string, string> = {}): Record<string, string> {
  return Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')
    ? headers
    : { ...AUTH, ...headers };
}
