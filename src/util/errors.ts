/**
 * An error caused by the user's input (a bad path, a bad flag value, an
 * unreadable image). The CLI prints its message without a stack trace and
 * exits 1. Internal invariant failures are plain Errors and keep their stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}
