import { ShellWordsError, splitCommand } from './shell-words.js';

describe(splitCommand.name, () => {
  const sut = splitCommand;

  it.each<[string, string[]]>([
    ['node server.js', ['node', 'server.js']],
    ['  node   server.js  ', ['node', 'server.js']],
    ['python3 -m http.server $(PORT)', ['python3', '-m', 'http.server', '$(PORT)']],
    [`node -e 'console.log("hi there")'`, ['node', '-e', 'console.log("hi there")']],
    [`echo "a b" c`, ['echo', 'a b', 'c']],
    [`echo "say \\"hi\\" \\$x"`, ['echo', 'say "hi" $$x']],
    [`echo a\\ b`, ['echo', 'a b']],
    [`echo ''`, ['echo', '']],
    [`echo x"y z"'w'`, ['echo', 'xy zw']],
    [`echo "$(PORT)"`, ['echo', '$(PORT)']],
    [`echo a#b x~`, ['echo', 'a#b', 'x~']],
    [`echo '*' "|"`, ['echo', '*', '|']],
    // Quoted or escaped, $(VAR) is text: $$(VAR) is how Grid is told to leave it alone.
    [`echo '$(HOME)'`, ['echo', '$$(HOME)']],
    [`echo "\\$(X)"`, ['echo', '$$(X)']],
    // Grid reads $$ as one literal $ anywhere, so every quoted or escaped $ is written $$.
    [`echo '$$(SECRET)'`, ['echo', '$$$$(SECRET)']],
    [`psql -c 'SELECT $$body$$'`, ['psql', '-c', 'SELECT $$$$body$$$$']],
    [`echo 'cost $5'`, ['echo', 'cost $$5']],
    [`echo '$'"(X)"`, ['echo', '$$(X)']],
    [`echo "\\$$(X)"`, ['echo', '$$$(X)']],
    // A backslash-newline joins lines, as a shell does.
    ['node \\\nserver.js', ['node', 'server.js']],
    ['node ser\\\nver.js', ['node', 'server.js']],
  ])('%s', (line, want) => {
    expect(sut(line)).toEqual(want);
  });

  it.each<[string, string]>([
    ['', 'is empty'],
    ['a | b', "'|'"],
    ['a > out', "'>'"],
    ['a; b', "';'"],
    ['a && b', "'&'"],
    ['echo $HOME', 'a $ expansion'],
    ['echo "$HOME"', 'a $ expansion'],
    ['ls *.js', "'*'"],
    ['echo `id`', "'`'"],
    ['cd ~', "'~'"],
    ["echo 'open", 'unterminated single quote'],
    ['echo "open', 'unterminated double quote'],
    ['echo a\\', 'trailing backslash'],
    ['# comment', "'#'"],
    ['FOO=1 node x.js', "'FOO=1' sets a variable"],
  ])('refuses %j (%s)', (line, why) => {
    expect(() => sut(line)).toThrow(ShellWordsError);
    expect(() => sut(line)).toThrow(why);
  });
});
