/**
 * Escaping text for XML and HTML reports.
 *
 * @module
 */

/**
 * Escapes `text` for XML/HTML text and attribute values, and drops characters XML 1.0
 * cannot carry (guest output may contain any byte).
 */
export function escapeMarkup(text: string): string {
  return text
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD]/g, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
