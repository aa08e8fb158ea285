// Shell completion scripts generated from gridctl's own command tree, so they never drift from
// the commands: subcommands and flags complete without running gridctl (instant); the names of
// services, pods and failover groups come from `gridctl __complete <kind>`, which asks Grid
// with a short timeout and prints nothing when Grid is not there.
import type { Argument, Command } from 'commander';
import type { Ctx } from '../run.js';
import { aliasesOf, kindNamed } from './resource-args.js';

/** What a positional argument completes to: fixed words, a kind of object, or the kind named by the argument before it. */
export type ArgSource = { words: string[]; contexts?: boolean } | { kind: NameKind } | { kindFromPrevious: true };
export type NameKind = 'services' | 'pods' | 'failovergroups';

const NAME_KINDS: NameKind[] = ['services', 'pods', 'failovergroups'];

/** The kind whose names a word (a kind alias, or an argument named `group`) asks for; events and volumes have no names to offer (no command takes a volume by name but get). */
export function kindOf(word: string): NameKind | undefined {
  if (word === 'group') return 'failovergroups';
  const k = kindNamed(word);
  return k === 'events' || k === 'volumes' ? undefined : k;
}

export interface CommandInfo {
  /** Space-separated path below gridctl: '' for the root, 'rollout status'. */
  path: string;
  subcommands: string[];
  options: string[];
  args: ArgSource[];
  /** The index of a variadic last argument, if any. */
  variadicFrom?: number;
}

/** Flattens the tree: every command's subcommands (names and aliases), flags and argument sources. */
export function describeTree(root: Command): { commands: CommandInfo[]; valueOptions: string[] } {
  const commands: CommandInfo[] = [];
  const valueOptions = new Set<string>();
  const walk = (cmd: Command, path: string) => {
    const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    const options: string[] = [];
    for (const o of cmd.options) {
      if (o.hidden) continue;
      for (const f of [o.long, o.short]) if (f) options.push(f);
      if (o.required || o.optional) for (const f of [o.long, o.short]) if (f) valueOptions.add(f);
    }
    // Every command takes --help; the root's list, offered everywhere, carries it once.
    if (path === '') options.push('--help');
    const last = cmd.registeredArguments.length - 1;
    commands.push({
      path,
      subcommands: subs.flatMap((c) => [c.name(), ...c.aliases()]),
      options,
      args: cmd.registeredArguments.map((a, i) => argSource(a, i, path, cmd.registeredArguments)),
      variadicFrom: last >= 0 && cmd.registeredArguments[last].variadic ? last : undefined,
    });
    for (const s of subs) for (const n of [s.name(), ...s.aliases()]) walk(s, path ? `${path} ${n}` : n);
  };
  walk(root, '');
  return { commands, valueOptions: [...valueOptions].sort() };
}

/** The kinds each command's `<kind>`/`[type]` argument takes, as the user types them. */
const KINDS_OF: Record<string, string[]> = {
  get: ['services', 'pods', 'failovergroups', 'events', 'volumes'],
  describe: ['service', 'pod', 'failovergroup'],
  delete: ['service', 'failovergroup'],
  top: ['pods', 'services'],
  scale: ['service'],
};

/** `<kind>`, `[type]`, `<type[/name]>`: an argument that names a kind of object. */
function isKindArg(a: Argument): boolean {
  return /^(kind|type)\b/.test(a.name());
}

function argSource(a: Argument, i: number, path: string, all: readonly Argument[]): ArgSource {
  if (a.argChoices && a.argChoices.length > 0) return { words: [...a.argChoices] };
  if (isKindArg(a) && KINDS_OF[path]) return { words: KINDS_OF[path] };
  const byName = kindOf(a.name());
  if (byName) return { kind: byName };
  const first = all[0];
  if (i > 0 && first && (first.argChoices?.some((c) => kindOf(c)) || isKindArg(first))) return { kindFromPrevious: true };
  const words = path.split(' ');
  if (words[0] === 'config' && a.name() === 'name') return { words: [], contexts: true } as ArgSource;
  if (words.includes('failover')) return { kind: 'failovergroups' };
  if (words.includes('logs')) return { kind: 'pods' };
  if (words.includes('rollout') || words.includes('scale')) return { kind: 'services' };
  return { words: [] };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A bash completion script (also loaded by zsh through bashcompinit). */
export function bashScript(root: Command): string {
  const { commands, valueOptions } = describeTree(root);
  const global = commands.find((c) => c.path === '')!.options;
  const caseArm = (body: (c: CommandInfo) => string | undefined) =>
    commands
      .map((c) => {
        const b = body(c);
        return b === undefined ? undefined : `    ${q(c.path)}) ${b} ;;`;
      })
      .filter(Boolean)
      .join('\n');
  const subs = caseArm((c) => (c.subcommands.length ? `echo ${q(c.subcommands.join(' '))}` : undefined));
  const opts = caseArm((c) => (c.path !== '' && c.options.length ? `echo ${q(c.options.join(' '))}` : undefined));
  const args = commands
    .flatMap((c) =>
      c.args.map((a, i) => {
        // A variadic last argument ([names...]) completes at every position from its own on.
        const key = c.variadicFrom === i ? `${q(`${c.path}#`)}[${i}-9]` : q(`${c.path}#${i}`);
        if ('words' in a) {
          if (a.contexts) return `    ${key}) "\${COMP_WORDS[0]}" __complete contexts 2>/dev/null ;;`;
          return a.words.length ? `    ${key}) echo ${q(a.words.join(' '))} ;;` : undefined;
        }
        if ('kind' in a) return `    ${key}) __gridctl_names ${a.kind} ;;`;
        return `    ${key}) __gridctl_names "$2" ;;`;
      }),
    )
    .filter(Boolean)
    .join('\n');
  return `# gridctl completion for bash. Load it now:   source <(gridctl completion bash)
# or for every shell:   gridctl completion bash > /etc/bash_completion.d/gridctl
__gridctl_subs() {
  case "$1" in
${subs}
  esac
}
__gridctl_opts() {
  case "$1" in
${opts}
  esac
}
__gridctl_names() {
  local kind="$1"
  case "$kind" in ${NAME_KINDS.map((k) => `${[...aliasesOf(k), ...(k === 'failovergroups' ? ['group'] : [])].join('|')}) kind=${k} ;;`).join(' ')} *) return ;; esac
  "\${COMP_WORDS[0]}" __complete "$kind" 2>/dev/null
}
__gridctl_args() {
  case "$1" in
${args}
  esac
}
__gridctl_value_opt() {
  case "$1" in
    ${valueOptions.length ? valueOptions.map(q).join('|') : "''"}) return 0 ;;
  esac
  return 1
}
_gridctl() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" n=0 first_arg="" w i subs
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      --*=*) continue ;;
      -*) if __gridctl_value_opt "$w"; then ((i++)); fi; continue ;;
    esac
    subs=" $(__gridctl_subs "$path") "
    if [[ $n -eq 0 && "$subs" == *" $w "* ]]; then
      path="\${path:+$path }$w"
    else
      [[ $n -eq 0 ]] && first_arg="$w"
      ((n++))
    fi
  done
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(__gridctl_opts "$path") ${q(global.join(' '))}" -- "$cur"))
    return
  fi
  if [[ $COMP_CWORD -gt 1 ]] && __gridctl_value_opt "\${COMP_WORDS[COMP_CWORD - 1]}"; then
    case "\${COMP_WORDS[COMP_CWORD - 1]}" in
      -o|--output) COMPREPLY=($(compgen -W "json yaml name wide" -- "$cur")) ;;
      -f|--filename) COMPREPLY=($(compgen -f -- "$cur")) ;;
      --context) COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" __complete contexts 2>/dev/null)" -- "$cur")) ;;
      *) COMPREPLY=() ;;
    esac
    return
  fi
  local words=""
  [[ $n -eq 0 ]] && words="$(__gridctl_subs "$path")"
  words="$words $(__gridctl_args "$path#$n" "$first_arg")"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _gridctl gridctl
`;
}

/** zsh runs the bash script through bashcompinit, which zsh ships for exactly this. */
export function zshScript(root: Command): string {
  return `#compdef gridctl
# gridctl completion for zsh. Load it now:   source <(gridctl completion zsh)
# or for every shell: gridctl completion zsh > "\${fpath[1]}/_gridctl"
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(root).split('\n').filter((l) => !l.startsWith('# gridctl completion for bash') && !l.startsWith('# or for every shell')).join('\n')}`;
}

/** `gridctl __complete <kind>`: the names to offer, one per line; silent on any failure. */
export async function completeNames(ctx: Ctx, kind: string): Promise<number> {
  try {
    let names: string[] = [];
    if (kind === 'contexts') {
      const { readConfig } = await import('../config.js');
      names = (await readConfig()).contexts.map((c) => c.name);
    } else if (kind === 'services') names = (await ctx.client.get<{ services: Array<{ name: string }> }>('/services')).services.map((s) => s.name);
    else if (kind === 'pods') names = (await ctx.client.get<{ pods: Array<{ id: string }> }>('/state')).pods.map((p) => p.id);
    else if (kind === 'failovergroups') names = (await ctx.client.get<{ groups: Array<{ name: string }> }>('/failover')).groups.map((g) => g.name);
    ctx.out.write(names.filter((n) => /^[A-Za-z0-9._-]+$/.test(n)).map((n) => `${n}\n`).join(''));
  } catch {
    // Completion must never print errors into the user's command line.
  }
  return 0;
}
