/**
 * `hvkit`: the command-line interface and composition root.
 *
 * @packageDocumentation
 */
/** The command's name. */
export const COMMAND_NAME = "hvkit";
