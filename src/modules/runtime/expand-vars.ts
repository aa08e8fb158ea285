// Kubernetes' $(VAR) expansion for container commands (k8s.io/kubernetes
// third_party/forked/golang/expansion), so a spec written for Kubernetes means the same here.

const OPERATOR = '$';

/**
 * Replaces `$(NAME)` with `vars[NAME]`. `$$` is an escaped `$` (so `$$(NAME)` stays literal),
 * an unknown name or an unclosed `$(` stays as written, and a `$` before anything else is kept.
 * Values are not expanded again.
 */
export function expandVars(input: string, vars: Readonly<Record<string, string>>): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== OPERATOR || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    if (next === OPERATOR) {
      out += OPERATOR;
      cursor += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close === -1) {
        out += '$(';
        cursor += 1;
      } else {
        const name = input.slice(cursor + 2, close);
        out += Object.hasOwn(vars, name) ? vars[name] : `$(${name})`;
        cursor = close;
      }
    } else {
      out += OPERATOR + next;
      cursor += 1;
    }
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
