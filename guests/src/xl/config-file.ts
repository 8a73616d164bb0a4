/**
 * xl's configuration file syntax (xl.cfg(5)) as libxlu reads it (Xen 4.19
 * tools/libs/util: the lexer libxlu_cfg_l.l, the grammar libxlu_cfg_y.y, the store and
 * the getters in libxlu_cfg.c). The rules, all of which a porter meets when moving a
 * config between real xl and hvkit:
 *
 * - A file is statements `key = value` or `key += value`, each ended by a newline or `;`
 *   (the last one may end the file). Keys are `[a-z][._0-9a-z]*`: lower case only.
 * - A value is a string in single or double quotes (on one line; escapes `\"`, `\'`,
 *   `\\`, `\a \b \f \n \r \t \v`), a bare number `[0-9][0-9a-fx]*` (kept as its text, like
 *   a string), or a list `[ v, v, ... ]` of values, which may hold lists, may end with a
 *   comma, and is the only thing that may span lines. There is no backslash line
 *   continuation.
 * - `#` starts a comment that runs to the end of the line; like every newline it ends a
 *   statement. A comment must end with a newline: one on the file's last line without
 *   one is a lexical error in xl too.
 * - A key given twice keeps its last value. `+=` appends to the value before it (strings
 *   are joined, lists concatenated; a string and a list cannot be added); a number
 *   assigned with `+=` is refused when it is read.
 * - Anything else (`-1`, `1.5`, `128M`, a capital letter, a carriage return, a string
 *   with no closing quote) is an error reported as xl does,
 *   `<file>:<line>: config parsing error near `<text>': <what>`, at most one per line;
 *   parsing goes on at the next line so every bad line is reported at once.
 *
 * Settings given on xl's command line (`xl create guest.cfg memory=64`, each a `key=value`
 * statement) are appended to the file's text as xl does (xl_vmcontrol.c `create_domain`:
 * a newline, then each on a line of its own), so they override the file's settings and
 * `+=` there extends the file's value; a problem in one is reported as the command line's,
 * not at a line past the file's end as xl numbers it.
 *
 * Where hvkit differs from xl it is stricter or clearer, never more lenient about what
 * xl would read differently: xl's `\x..` escapes never decode (always an error, as here),
 * its octal escapes silently vanish from the string (refused here), and it reports an
 * unexpected newline one line early (the real line here).
 *
 * @module
 */
import { HvkitError } from "@hvkit/core";

/** A string value (quoted, or a bare number: xlu keeps both as text). */
export interface XlString {
  /** Discriminant. */
  readonly kind: "string";
  /** The text, escapes decoded. */
  readonly text: string;
  /** The line it starts on (1-based). */
  readonly line: number;
}

/** A list value `[ ... ]`. */
export interface XlList {
  /** Discriminant. */
  readonly kind: "list";
  /** Its items, in order. */
  readonly items: readonly XlValue[];
  /** The line of its `[`. */
  readonly line: number;
}

/** A value in an xl config. */
export type XlValue = XlString | XlList;

/** One `key = value` (or `key += value`) statement, after `+=` has been applied. */
export interface XlSetting {
  /** The key. */
  readonly name: string;
  /** How it was given: `=`, or `+=` (the value then already holds what it was added to). */
  readonly op: "=" | "+=";
  /** The value. */
  readonly value: XlValue;
  /** The line of the value. */
  readonly line: number;
}

/** One thing wrong with a config: where (null: the file as a whole) and what. */
export interface XlConfigProblem {
  /** The line (1-based), or null for a problem of the whole file (a key missing). */
  readonly line: number | null;
  /** What is wrong, in xl's words where xl has them. */
  readonly message: string;
}

/**
 * The text of a config as xl parses it, and where each of its lines came from: the file,
 * then the settings given on the command line, which xl appends to it.
 */
export class XlConfigSource {
  /** The text parsed: the file's, then for settings a newline and each on its own line. */
  readonly text: string;
  /** The line each command-line setting starts on, in order. */
  private readonly settingLines: number[] = [];

  /**
   * @param name - the config's name in messages (its path as given).
   * @param fileText - the file's text.
   * @param settings - `key=value` statements from the command line, in order.
   */
  constructor(
    readonly name: string,
    fileText: string,
    readonly settings: readonly string[] = [],
  ) {
    const linesIn = (t: string): number => t.split("\n").length - 1;
    let line = linesIn(fileText) + 2;
    for (const setting of settings) {
      this.settingLines.push(line);
      line += linesIn(setting) + 1;
    }
    this.text = settings.length === 0 ? fileText : `${fileText}\n${settings.join("\n")}\n`;
  }

  /**
   * Where `line` is, for a message: `<file>:<line>`, `command line \`<setting>'` for a
   * command-line setting's line, or `<file>` for null (the config as a whole).
   */
  where(line: number | null): string {
    if (line === null) return this.name;
    for (let i = this.settingLines.length - 1; i >= 0; i--)
      if (line >= this.settingLines[i]) return `command line \`${this.settings[i]}'`;
    return `${this.name}:${line}`;
  }
}

/** `<where>: <message>` for a problem of `source` (a bare name: a file without settings). */
export function formatXlProblem(source: string | XlConfigSource, problem: XlConfigProblem): string {
  const origin = typeof source === "string" ? new XlConfigSource(source, "") : source;
  return `${origin.where(problem.line)}: ${problem.message}`;
}

/**
 * A config xl would refuse (or hvkit cannot run): every problem found, each as a line of
 * the message in xl's form `<file>:<line>: <what>`.
 */
export class XlConfigError extends HvkitError {
  /** The config's name in messages (its path as given). */
  readonly source: string;

  /**
   * @param source - the config (or its name, for a file without command-line settings).
   * @param problems - what is wrong, in file order; at least one.
   */
  constructor(
    source: string | XlConfigSource,
    readonly problems: readonly XlConfigProblem[],
  ) {
    super(problems.map((p) => formatXlProblem(source, p)).join("\n"));
    this.source = typeof source === "string" ? source : source.name;
  }
}

/** A parsed config: its settings, of which the last one of each key counts. */
export class XlConfig {
  private readonly byName = new Map<string, XlSetting>();

  /**
   * @param source - the config's text and where its lines came from, for messages.
   * @param settings - the statements in file order.
   */
  constructor(
    readonly source: XlConfigSource,
    readonly settings: readonly XlSetting[],
  ) {
    for (const s of settings) this.byName.set(s.name, s);
  }

  /** The setting of `name` in force (the last one given), or undefined. */
  get(name: string): XlSetting | undefined {
    return this.byName.get(name);
  }

  /** The keys given, each once, in the order of their first appearance. */
  names(): string[] {
    return [...new Set(this.settings.map((s) => s.name))];
  }
}

type TokenType =
  "IDENT" | "STRING" | "NUMBER" | "NEWLINE" | "+=" | "=" | ";" | "[" | "]" | "," | "EOF";

interface Token {
  readonly type: TokenType;
  /** The source text (a comment with its newline for NEWLINE). */
  readonly raw: string;
  /** IDENT/NUMBER text, or a STRING's decoded text. */
  readonly value: string;
  readonly line: number;
}

/** How bison (`%error-verbose`) names a token in "unexpected X, expecting Y". */
const TOKEN_NAME: Readonly<Record<TokenType, string>> = {
  IDENT: "IDENT",
  STRING: "STRING",
  NUMBER: "NUMBER",
  NEWLINE: "NEWLINE",
  "+=": "+=",
  "=": "'='",
  ";": "';'",
  "[": "'['",
  "]": "']'",
  ",": "','",
  EOF: "end of file",
};

const IDENT = /[a-z][._0-9a-z]*/y;
const NUMBER = /[0-9][0-9a-fx]*/y;
const COMMENT = /#[^\n]*\n/y;
const QUOTED: Readonly<Record<string, RegExp>> = {
  "'": /'(?:[^'\\\n]|\\[^\n])*'/y,
  '"': /"(?:[^"\\\n]|\\[^\n])*"/y,
};
/** After a character no token starts with: the rest of the word (flex's `lexerr` state). */
const REST_OF_WORD = /[^ \t\n]*/y;
/** Characters that make xl add its "looks like Python" warning. */
const PYTHONISH = "+-.():";

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  "\\": "\\",
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

function match(re: RegExp, text: string, at: number): string | null {
  re.lastIndex = at;
  const m = re.exec(text);
  return m === null ? null : m[0];
}

/** The text of a problem "near" a token, as xl's yyerror shows it. */
function near(raw: string): string {
  const visible = (c: string): string => {
    if (c === "\r") return "\\r";
    const code = c.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : c;
  };
  const text = [...raw.replace(/\n$/, "").replace(/[ \t]+$/, "")].map(visible).join("");
  return text === "" ? (raw.endsWith("\n") ? "<newline>" : "end of file") : `\`${text}'`;
}

/** Collects problems, at most one per line (xl reports no second error on a line). */
class Problems {
  readonly list: XlConfigProblem[] = [];
  private readonly lines = new Set<number>();
  likelyPython = false;

  add(line: number, message: string): void {
    if (this.lines.has(line)) return;
    this.lines.add(line);
    this.list.push({ line, message });
  }

  /** `config parsing error near <text>: <what>` on `line`. */
  near(line: number, raw: string, what: string): void {
    this.add(line, `config parsing error near ${near(raw)}: ${what}`);
  }
}

/** Decodes a quoted string's escapes (xlu__cfgl_dequote); null after reporting a bad one. */
function dequote(raw: string, line: number, problems: Problems): string | null {
  let out = "";
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = raw[++i];
    if (e in ESCAPES) {
      out += ESCAPES[e];
    } else if (e === "x") {
      problems.near(
        line,
        raw,
        "invalid digit after backslash hex numerical character escape in quoted string " +
          "(xl never decodes \\x escapes; write the character itself)",
      );
      return null;
    } else if (e >= "0" && e <= "7") {
      problems.near(
        line,
        raw,
        "octal character escape in quoted string (xl drops it from the string instead of " +
          "decoding it; write the character itself)",
      );
      return null;
    } else {
      problems.near(line, raw, "invalid character after backslash in quoted string");
      return null;
    }
  }
  return out;
}

/** Splits `text` into tokens, reporting (and skipping) what no token matches. */
function tokenize(text: string, problems: Problems): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const push = (type: TokenType, raw: string, value = raw): void => {
    tokens.push({ type, raw, value, line });
  };
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    let raw: string | null = null;
    if (c >= "a" && c <= "z") {
      raw = match(IDENT, text, i)!;
      push("IDENT", raw);
    } else if (c >= "0" && c <= "9") {
      raw = match(NUMBER, text, i)!;
      push("NUMBER", raw);
    } else if (c === "+" && text[i + 1] === "=") {
      raw = "+=";
      push("+=", raw);
    } else if (c === "=" || c === ";" || c === "[" || c === "]" || c === ",") {
      raw = c;
      push(c, raw);
    } else if (c === "\n") {
      raw = c;
      push("NEWLINE", raw);
      line++;
    } else if (c === "#") {
      raw = match(COMMENT, text, i);
      if (raw !== null) {
        push("NEWLINE", raw);
        line++;
      }
    } else if (c === "'" || c === '"') {
      raw = match(QUOTED[c], text, i);
      if (raw !== null) {
        const value = dequote(raw, line, problems);
        push("STRING", raw, value ?? "");
      }
    }
    if (raw !== null) {
      i += raw.length;
      continue;
    }
    // No token starts here: xl's lexer reports the character with the rest of its word
    // (or the one blank after it) as a lexical error and goes on after it.
    if (PYTHONISH.includes(c)) problems.likelyPython = true;
    const prev = tokens.at(-1);
    let bad = c + (match(REST_OF_WORD, text, i + 1) ?? "");
    if (bad.length === 1 && (text[i + 1] === " " || text[i + 1] === "\t")) bad += text[i + 1];
    let what = "lexical error";
    if (c === "\r") what += " (a carriage return: xl reads only \\n line ends, not DOS's \\r\\n)";
    else if (c === "#") what += " (a comment on the last line needs a newline after it)";
    else if (c === "'" || c === '"') what += " (a string with no closing quote on its line)";
    else if (/[A-Za-z]/.test(c) && prev?.type === "NUMBER" && prev.line === line)
      what += " (a number has no unit suffix)";
    else if (
      c >= "A" &&
      c <= "Z" &&
      (prev === undefined || prev.type === "NEWLINE" || prev.type === ";")
    )
      what += " (keys are lower case)";
    problems.near(line, bad, what);
    i += bad.length;
  }
  tokens.push({ type: "EOF", raw: "", value: "", line });
  return tokens;
}

/** Where the parser stands when a token is unexpected, and what bison would list. */
const EXPECTED = {
  statement: ["EOF", "IDENT", "NEWLINE", ";"],
  operator: ["+=", "="],
  value: ["STRING", "NUMBER", "["],
  endOfStatement: ["EOF", "NEWLINE", ";"],
  afterItem: [",", "]"],
  // After `[` or `,` five tokens would do, more than bison lists.
  item: [],
} as const satisfies Record<string, readonly TokenType[]>;

/** Thrown inside the parser to abandon a statement (bison's error recovery). */
class StatementAbandoned extends Error {}

/** Parses a token list by libxlu's grammar into settings. */
class Parser {
  private at = 0;
  readonly settings: XlSetting[] = [];

  constructor(
    private readonly tokens: readonly Token[],
    private readonly problems: Problems,
  ) {}

  private get token(): Token {
    return this.tokens[this.at];
  }

  private unexpected(expected: readonly TokenType[]): never {
    const t = this.token;
    const list = expected.map((e) => TOKEN_NAME[e]).join(" or ");
    const what = `syntax error, unexpected ${TOKEN_NAME[t.type]}${list === "" ? "" : `, expecting ${list}`}`;
    this.problems.near(t.line, t.raw, what);
    throw new StatementAbandoned();
  }

  private skipNewlines(): void {
    while (this.token.type === "NEWLINE") this.at++;
  }

  parse(): void {
    for (;;) {
      const t = this.token;
      if (t.type === "EOF") return;
      try {
        if (t.type === "NEWLINE" || t.type === ";") {
          this.at++;
        } else if (t.type === "IDENT") {
          this.assignment();
          const end = this.token.type;
          if (end === "NEWLINE" || end === ";") this.at++;
          else if (end !== "EOF") this.unexpected(EXPECTED.endOfStatement);
        } else {
          this.unexpected(EXPECTED.statement);
        }
      } catch (e) {
        if (!(e instanceof StatementAbandoned)) throw e;
        // bison's `stmt: error NEWLINE`: drop everything up to the next newline.
        while (this.token.type !== "NEWLINE" && this.token.type !== "EOF") this.at++;
        if (this.token.type === "NEWLINE") this.at++;
      }
    }
  }

  private assignment(): void {
    const name = this.token.value;
    const nameLine = this.token.line;
    this.at++;
    const op = this.token.type;
    if (op !== "=" && op !== "+=") this.unexpected(EXPECTED.operator);
    this.at++;
    let value = this.value();
    if (op === "+=") {
      const prev = this.settings.findLast((s) => s.name === name);
      if (prev !== undefined) {
        if (prev.value.kind !== value.kind) {
          this.problems.add(nameLine, `can't add [list] to "string" or vice versa (\`${name}')`);
          return;
        }
        value =
          value.kind === "string"
            ? { ...value, text: (prev.value as XlString).text + value.text }
            : { ...value, items: [...(prev.value as XlList).items, ...value.items] };
      }
    }
    this.settings.push({ name, op, value, line: value.line });
  }

  private value(): XlValue {
    const t = this.token;
    if (t.type === "STRING" || t.type === "NUMBER") {
      this.at++;
      return { kind: "string", text: t.value, line: t.line };
    }
    if (t.type !== "[") this.unexpected(EXPECTED.value);
    this.at++;
    this.skipNewlines();
    const items: XlValue[] = [];
    const next = (): TokenType => this.token.type;
    for (;;) {
      if (next() === "]") break;
      if (next() !== "STRING" && next() !== "NUMBER" && next() !== "[")
        this.unexpected(EXPECTED.item);
      items.push(this.value());
      this.skipNewlines();
      if (next() === "]") break;
      if (next() !== ",") this.unexpected(EXPECTED.afterItem);
      this.at++;
      this.skipNewlines();
    }
    this.at++;
    return { kind: "list", items, line: t.line };
  }
}

/**
 * Parses the text of an xl config, with `settings` from the command line after it (see
 * {@link XlConfigSource}). `source` names it in messages (xl uses the path given on its
 * command line). Throws {@link XlConfigError} listing every problem, each with its line,
 * when xl's parser would refuse the text.
 */
export function parseXlConfig(
  text: string,
  source: string,
  settings: readonly string[] = [],
): XlConfig {
  const origin = new XlConfigSource(source, text, settings);
  const problems = new Problems();
  const parser = new Parser(tokenize(origin.text, problems), problems);
  parser.parse();
  if (problems.list.length > 0) {
    const list = [...problems.list].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    if (problems.likelyPython) {
      list.push({
        line: null,
        message: "warning: the config looks like it contains Python code, which xl no longer runs",
      });
    }
    throw new XlConfigError(origin, list);
  }
  return new XlConfig(origin, parser.settings);
}
