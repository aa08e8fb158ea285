// Splitting a command line into argv without a shell: gridctl's DSR flags (--command) and
// Compose's string `command:` both need it, and both must refuse the same things, so there is
// one splitter. Pure (no Nest, no I/O): bundled into the CLI and loaded by the server.

/** What splitCommand refuses, said without naming the flag or field: the caller prefixes it. */
export class ShellWordsError extends Error {}

/**
 * Splits a command line as a POSIX shell would split words, for the subset that has one clear
 * meaning: blanks separate words, '…' is literal, "…" keeps blanks and honours \" \\ \$ \`, a
 * backslash outside quotes escapes the next character. Anything a shell would expand or
 * interpret ($VAR, globs, pipes, redirections, `;`, `&`, backticks, `~`) is refused rather than
 * passed on literally, since Grid spawns without a shell and the result would silently differ.
 * `$(VAR)` is kept: Grid itself expands it from the pod's environment.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const refuse = (what: string): never => {
    throw new ShellWordsError(`cannot split ${what} at character ${i + 1} of ${JSON.stringify(line)} without a shell; Grid runs the command without one`);
  };
  const dollar = (): void => {
    const m = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)/.exec(line.slice(i));
    if (!m) refuse('a $ expansion');
    cur += m![0];
    i += m![0].length;
  };
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) refuse('an unterminated single quote');
      // Quoted, every $ is text: written $$, which Grid reads as one literal $ (it expands $(VAR) and reduces $$).
      cur += line.slice(i + 1, end).replace(/\$/g, '$$$$');
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= line.length) refuse('an unterminated double quote');
        const d = line[i];
        if (d === '"') break;
        if (d === '\\' && line[i + 1] === '\n') i += 2;
        else if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) {
          cur += line[i + 1] === '$' ? '$$' : line[i + 1];
          i += 2;
        } else if (d === '$') dollar();
        else if (d === '`') refuse('a backtick');
        else {
          cur += d;
          i++;
        }
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) refuse('a trailing backslash');
      // A backslash-newline joins lines, as in a shell; an escaped $ is a literal $, written $$ for Grid.
      if (line[i + 1] !== '\n') cur += line[i + 1] === '$' ? '$$' : line[i + 1];
      if (line[i + 1] === '\n' && cur === '') inWord = false;
      i += 2;
    } else if (c === '$') dollar();
    else if ('|&;<>()`*?[]{}~#\n\r'.includes(c)) {
      if ((c === '~' || c === '#') && cur.length > 0) {
        cur += c;
        i++;
      } else refuse(`'${c === '\n' ? '\\n' : c === '\r' ? '\\r' : c}'`);
    } else {
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  if (words.length === 0) throw new ShellWordsError('is empty');
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) throw new ShellWordsError(`'${words[0]}' sets a variable, which takes a shell; Grid would run a program named so. Put it in the env instead`);
  return words;
}
