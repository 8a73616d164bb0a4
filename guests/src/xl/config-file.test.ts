/**
 * libxlu's config syntax: what parses to which settings, and the xl-style message (file,
 * line, the text near the problem) for each way a file can be wrong.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseXlConfig, XlConfigError, type XlList, type XlValue } from "./config-file.js";

/** The settings of `text` as plain data: key → value (strings, nested arrays). */
function values(text: string): Record<string, unknown> {
  const cfg = parseXlConfig(text, "t.cfg");
  const plain = (v: XlValue): unknown => (v.kind === "string" ? v.text : v.items.map(plain));
  return Object.fromEntries(cfg.names().map((n) => [n, plain(cfg.get(n)!.value)]));
}

/** The problems xl would print for `text`, one string per line of output. */
function problems(text: string): string[] {
  try {
    parseXlConfig(text, "bad.cfg");
  } catch (e) {
    expect(e).toBeInstanceOf(XlConfigError);
    return (e as XlConfigError).message.split("\n");
  }
  throw new Error("the config parsed");
}

describe("parseXlConfig", () => {
  it("reads strings in either quotes, bare numbers as text, lists, comments and ;", () => {
    const text = [
      "# a domain",
      'name = "guest"   # trailing comment',
      "kernel='/boot/vmlinuz' ; memory = 128",
      "vcpus=0x2",
      "",
      "disk = [ \"a\", 'b',",
      "         [ 1, 2 ],",
      "       ]",
      "empty = []",
      'last = "no newline"',
    ].join("\n");
    expect(values(text)).toEqual({
      name: "guest",
      kernel: "/boot/vmlinuz",
      memory: "128",
      vcpus: "0x2",
      disk: ["a", "b", ["1", "2"]],
      empty: [],
      last: "no newline",
    });
  });

  it("records the line of each value (a list: its '[')", () => {
    const cfg = parseXlConfig('\n\nname = "x"\nl = [\n "a" ]\n', "t.cfg");
    expect(cfg.get("name")!.line).toBe(3);
    expect(cfg.get("l")!.line).toBe(4);
    expect((cfg.get("l")!.value as XlList).items[0].line).toBe(5);
  });

  it("decodes xl's escapes", () => {
    expect(values(String.raw`s = "a\"b\'c\\d\n\t\a\b\f\r\v"` + "\n").s).toBe(
      "a\"b'c\\d\n\t\x07\b\f\r\v",
    );
    expect(values(String.raw`s = 'it\'s'` + "\n").s).toBe("it's");
  });

  it("keeps the last of a key given twice, and += joins strings and lists", () => {
    expect(values('a = "1"\na = "2"\n').a).toBe("2");
    expect(
      values('extra = "console=hvc0"\nextra += " quiet"\nl = ["a"]\nl += ["b", "c"]\nn += "x"\n'),
    ).toEqual({ extra: "console=hvc0 quiet", l: ["a", "b", "c"], n: "x" });
    expect(parseXlConfig('a += "x"\n', "t").get("a")!.op).toBe("+=");
  });

  it("reports a syntax error with the file, line, nearby text and what bison expected", () => {
    expect(problems('name = "a"\nmemory\n')).toEqual([
      "bad.cfg:2: config parsing error near <newline>: syntax error, unexpected NEWLINE, expecting += or '='",
    ]);
    expect(problems("memory =\n")).toEqual([
      "bad.cfg:1: config parsing error near <newline>: syntax error, unexpected NEWLINE, expecting STRING or NUMBER or '['",
    ]);
    expect(problems('name = "a" "b"\n')).toEqual([
      "bad.cfg:1: config parsing error near `\"b\"': syntax error, unexpected STRING, expecting end of file or NEWLINE or ';'",
    ]);
    expect(problems('"x" = 1\n')).toEqual([
      "bad.cfg:1: config parsing error near `\"x\"': syntax error, unexpected STRING, expecting end of file or IDENT or NEWLINE or ';'",
    ]);
    expect(problems('l = [ "a" "b" ]\n')).toEqual([
      "bad.cfg:1: config parsing error near `\"b\"': syntax error, unexpected STRING, expecting ',' or ']'",
    ]);
    expect(problems("l = [ = ]\n")).toEqual([
      "bad.cfg:1: config parsing error near `=': syntax error, unexpected '='",
    ]);
    expect(problems("memory = # none\n")).toEqual([
      "bad.cfg:1: config parsing error near `# none': syntax error, unexpected NEWLINE, expecting STRING or NUMBER or '['",
    ]);
    expect(problems("memory")).toEqual([
      "bad.cfg:1: config parsing error near end of file: syntax error, unexpected end of file, expecting += or '='",
    ]);
  });

  it("reports what no token matches as a lexical error near the word", () => {
    expect(problems("memory = 128M\n")).toEqual([
      "bad.cfg:1: config parsing error near `M': lexical error (a number has no unit suffix)",
    ]);
    expect(problems("Memory = 1\n")).toEqual([
      "bad.cfg:1: config parsing error near `Memory': lexical error (keys are lower case)",
    ]);
    expect(problems('name = "unterminated\n')).toEqual([
      "bad.cfg:1: config parsing error near `\"unterminated': lexical error (a string with no closing quote on its line)",
    ]);
    expect(problems('name = "a"\r\nmemory = 1\r\n')).toEqual([
      "bad.cfg:1: config parsing error near `\\r': lexical error (a carriage return: xl reads only \\n line ends, not DOS's \\r\\n)",
      "bad.cfg:2: config parsing error near `\\r': lexical error (a carriage return: xl reads only \\n line ends, not DOS's \\r\\n)",
    ]);
    expect(problems('name = "a"\n# no newline')).toEqual([
      "bad.cfg:2: config parsing error near `#': lexical error (a comment on the last line needs a newline after it)",
    ]);
  });

  it("adds xl's Python warning when the bad characters look like Python", () => {
    expect(problems("memory = -1\n")).toEqual([
      "bad.cfg:1: config parsing error near `-1': lexical error",
      "bad.cfg: warning: the config looks like it contains Python code, which xl no longer runs",
    ]);
    expect(problems('kernel = "/k" + "x"\n')).toContain(
      "bad.cfg: warning: the config looks like it contains Python code, which xl no longer runs",
    );
  });

  it("refuses the escapes xl cannot decode", () => {
    expect(problems(String.raw`s = "\x41"` + "\n")[0]).toMatch(
      /^bad\.cfg:1: config parsing error near `"\\x41"': invalid digit after backslash hex numerical character escape/,
    );
    expect(problems(String.raw`s = "\101"` + "\n")[0]).toMatch(/octal character escape/);
    expect(problems(String.raw`s = "\q"` + "\n")).toEqual([
      'bad.cfg:1: config parsing error near `"\\q"\': invalid character after backslash in quoted string',
    ]);
  });

  it("reports every bad line once, in line order, and still reads past them", () => {
    expect(problems('a = = 1\nb = 2\nc = -3 -4\nd\ne = [ "x"\n "y" ]\n')).toEqual([
      "bad.cfg:1: config parsing error near `=': syntax error, unexpected '=', expecting STRING or NUMBER or '['",
      "bad.cfg:3: config parsing error near `-3': lexical error",
      "bad.cfg:4: config parsing error near <newline>: syntax error, unexpected NEWLINE, expecting += or '='",
      "bad.cfg:6: config parsing error near `\"y\"': syntax error, unexpected STRING, expecting ',' or ']'",
      "bad.cfg: warning: the config looks like it contains Python code, which xl no longer runs",
    ]);
  });

  it("refuses += of a list to a string", () => {
    expect(problems('a = "x"\na += ["y"]\n')).toEqual([
      "bad.cfg:2: can't add [list] to \"string\" or vice versa (`a')",
    ]);
  });

  it("appends command-line settings as xl create does: they override, += extends, problems name them", () => {
    const cfg = parseXlConfig('name = "a"\nextra = "x"\n# last', "f.cfg", [
      'name = "b"',
      'extra += " y"',
      "l = [ 1,\n 2 ]",
      "memory=8",
    ]);
    expect(cfg.get("name")!.value).toMatchObject({ text: "b" });
    expect(cfg.get("extra")!.value).toMatchObject({ text: "x y" });
    expect(cfg.source.where(cfg.get("name")!.line)).toBe('command line `name = "b"\'');
    expect(cfg.source.where(cfg.get("memory")!.line)).toBe("command line `memory=8'");
    expect(cfg.source.where(2)).toBe("f.cfg:2");
    expect(cfg.source.where(null)).toBe("f.cfg");
    let error: unknown;
    try {
      parseXlConfig('name = "a"\nmemory = 1M\n', "f.cfg", ["vcpus=2", "maxmem=2G", "x"]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(XlConfigError);
    expect((error as XlConfigError).source).toBe("f.cfg");
    expect((error as Error).message.split("\n")).toEqual([
      "f.cfg:2: config parsing error near `M': lexical error (a number has no unit suffix)",
      "command line `maxmem=2G': config parsing error near `G': lexical error (a number has no unit suffix)",
      "command line `x': config parsing error near <newline>: syntax error, unexpected NEWLINE, expecting += or '='",
    ]);
  });

  it("never throws anything but XlConfigError, whatever the text", () => {
    const alphabet = fc.constantFrom(..."ab1 =+[],;#'\"\\\n\r-xM".split(""));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (chars) => {
        try {
          parseXlConfig(chars.join(""), "p.cfg");
        } catch (e) {
          expect(e).toBeInstanceOf(XlConfigError);
          for (const line of (e as XlConfigError).message.split("\n"))
            expect(line).toMatch(/^p\.cfg(:\d+)?: /);
        }
      }),
    );
  });
});
