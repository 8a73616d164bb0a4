/**
 * The error a command throws for a problem the user must fix.
 *
 * @module
 */

/**
 * A problem the user must fix: a bad option value, a file that cannot be read or written.
 * The program prints the message after `hvkit: ` and exits 2.
 */
export class UsageError extends Error {
  /** @param message - what is wrong, and what would be right. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
