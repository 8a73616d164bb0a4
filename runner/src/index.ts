/**
 * `@hvkit/runner`: boots an image in a fresh machine — as the initial domain, or as a domU
 * under the built-in dom0 — plumbs its console and runs it. The one path `hvkit run` and
 * every conformance cell take, so a cell sees exactly what the command line shows.
 *
 * @packageDocumentation
 */
export * from "./guest-run.js";
