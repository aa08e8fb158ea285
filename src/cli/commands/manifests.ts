// The documents of `apply -f`, `delete -f` and `diff -f`: read from files, directories and stdin,
// each remembering its file and position, so that Grid's answer about `[3].spec.replicas`
// can be told as `examples/x.yaml (document 2): spec.replicas: …`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { parseAllDocuments, stringify } from '../yaml.js';
import { CliError, UsageError } from '../errors.js';
import { readSmallFile } from '../config.js';

export interface SourceDoc {
  /** The file as the user named it (a directory's files joined to it), or `(stdin)`. */
  source: string;
  /** 1-based position among the documents of its file, counting empty ones as the user counts `---`. */
  document: number;
  value: unknown;
}

export type Kind = 'service' | 'failovergroup';

/** Grid's /apply body limit (src/main.ts BODY_LIMIT). */
export const MAX_APPLY_BYTES = 1024 * 1024;

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** `examples/x.yaml (document 2)`; a file's only document needs no number. */
export function where(doc: SourceDoc, docsOfSource = 2): string {
  return docsOfSource > 1 || doc.document > 1 ? `${doc.source} (document ${doc.document})` : doc.source;
}

/**
 * The documents of one file's text. JSON is read by the YAML parser too (JSON is YAML 1.2),
 * so a repeated key is refused in both, with its line; a JSON file's top-level array is a list
 * of documents, as /apply reads a JSON array.
 */
export function parseDocuments(text: string, source: string, json = false): SourceDoc[] {
  const docs: SourceDoc[] = [];
  const problems: string[] = [];
  parseAllDocuments(text, { prettyErrors: true }).forEach((d, i) => {
    const at = `${source}${i > 0 ? ` (document ${i + 1})` : ''}`;
    if (d.errors.length > 0) {
      for (const e of d.errors) problems.push(`${at}: ${e.message.split('\n')[0].replace(/:$/, '')}`);
      return;
    }
    let value: unknown;
    try {
      value = d.toJS({ maxAliasCount: 100 });
    } catch (e) {
      problems.push(`${at}: ${(e as Error).message}`);
      return;
    }
    if (value === null || value === undefined) return;
    if (json && Array.isArray(value)) value.forEach((v, j) => docs.push({ source, document: j + 1, value: v }));
    else docs.push({ source, document: i + 1, value });
  });
  if (problems.length > 0) throw new CliError(problems.join('\n'));
  return docs;
}

/** The files of a directory, sorted as kubectl walks them (lexically, subdirectories in place when recursive). */
export function filesOf(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...filesOf(p, true));
    } else if (MANIFEST_FILE.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Every document of `-f` arguments, in order. A missing path, an empty file named on the command
 * line, `-` twice, or no documents at all is a usage error naming what was given.
 */
export async function readSources(args: string[], recursive: boolean, readStdin: () => Promise<string>): Promise<SourceDoc[]> {
  if (args.length === 0) throw new UsageError('-f: give a file, a directory or - (stdin)');
  if (args.filter((a) => a === '-').length > 1) throw new UsageError('-f -: stdin can be read only once');
  const docs: SourceDoc[] = [];
  for (const arg of args) {
    if (arg === '-') {
      const found = parseDocuments(await readStdin(), '(stdin)');
      if (found.length === 0) throw new UsageError('-f -: no documents on stdin');
      docs.push(...found);
      continue;
    }
    const stat = fs.statSync(arg, { throwIfNoEntry: false });
    if (!stat) throw new UsageError(`-f ${arg}: no such file or directory`);
    if (stat.isDirectory()) {
      const found = filesOf(arg, recursive).flatMap((f) => parseDocuments(readText(f), f, /\.json$/i.test(f)));
      if (found.length === 0) throw new UsageError(`-f ${arg}: no documents in its *.yaml, *.yml or *.json files${recursive ? '' : ' (-R reads its subdirectories)'}`);
      docs.push(...found);
      continue;
    }
    const found = parseDocuments(readText(arg), arg, /\.json$/i.test(arg));
    if (found.length === 0) throw new UsageError(`-f ${arg}: no documents in the file`);
    docs.push(...found);
  }
  return docs;
}

/** More than Grid takes in one apply (1 MiB), with room for comments and YAML's shorter form; a bound on what is read. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

function readText(file: string): string {
  try {
    return readSmallFile(file, MAX_MANIFEST_BYTES);
  } catch (e) {
    throw new UsageError(`-f ${file}: ${(e as Error).message.replace(`${file}: `, '')}`);
  }
}

export function readStdin(stream: NodeJS.ReadableStream = process.stdin, limit = MAX_MANIFEST_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (c: Buffer | string) => {
      total += c.length;
      if (total > limit) {
        stream.removeListener('data', onData);
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        reject(new UsageError(`-f -: more than the ${limit} bytes gridctl reads from stdin`));
        return;
      }
      chunks.push(Buffer.from(c));
    };
    stream.on('data', onData);
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `service/api` for a Service or FailoverGroup document with a name, else undefined. */
export function refOf(value: unknown): { kind: Kind; name: string } | undefined {
  if (!isMapping(value) || !isMapping(value.metadata) || typeof value.metadata.name !== 'string') return undefined;
  const kind = value.kind === 'Service' ? 'service' : value.kind === 'FailoverGroup' ? 'failovergroup' : undefined;
  return kind ? { kind, name: value.metadata.name } : undefined;
}

/** How many documents each source holds, so a file's only document is named without a number. */
function countsOf(docs: SourceDoc[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const d of docs) n.set(d.source, (n.get(d.source) ?? 0) + 1);
  return n;
}

/**
 * Grid's field errors, told against the files. A request of several documents names them
 * `[i].spec.replicas` (`[i]` for the document itself); a request of one document names no index.
 */
export function mapFieldErrors(errors: Array<{ path: string; message: string }>, docs: SourceDoc[]): string[] {
  const counts = countsOf(docs);
  const at = (d: SourceDoc) => where(d, counts.get(d.source));
  return errors.map((e) => {
    const m = /^\[(\d+)\](?:\.(.*))?$/.exec(e.path);
    const doc = m ? docs[Number(m[1])] : docs.length === 1 && (e.path === '(root)' || !e.path.startsWith('(')) ? docs[0] : undefined;
    if (!doc) return `${e.path}: ${e.message}`;
    const field = m ? m[2] : e.path === '(root)' ? undefined : e.path;
    return field ? `${at(doc)}: ${field}: ${e.message}` : `${at(doc)}: ${e.message}`;
  });
}

/** Problems that make a document unusable for delete -f: one line each, naming the document. */
export function deletionProblems(docs: SourceDoc[]): string[] {
  const counts = countsOf(docs);
  const out: string[] = [];
  for (const d of docs) {
    if (refOf(d.value)) continue;
    const v = d.value;
    const why = !isMapping(v)
      ? 'must be a mapping'
      : v.kind !== 'Service' && v.kind !== 'FailoverGroup'
        ? `kind: must be Service or FailoverGroup to delete (got ${JSON.stringify(v.kind) ?? 'nothing'})`
        : 'metadata.name: is required';
    out.push(`${where(d, counts.get(d.source))}: ${why}`);
  }
  return out;
}

export interface AppliedResult {
  service?: string;
  failoverGroup?: string;
  result: string;
  live?: unknown;
  merged?: unknown;
}

/** Grid answers services first, then groups; this finds each document's answer by kind and name (one namespace, names unique per request). */
export function resultFor(value: unknown, applied: AppliedResult[]): AppliedResult | undefined {
  const ref = refOf(value);
  if (!ref) return undefined;
  return applied.find((a) => (ref.kind === 'service' ? a.service === ref.name : a.failoverGroup === ref.name));
}

/** What Grid made of an imported Kubernetes object or Compose service (POST /apply's `imported`). */
export interface ImportedNote {
  object: string;
  became?: string;
  ignored: string[];
  index: number;
  runsOnHost?: string[];
  /** A StatefulSet's claim template that became spec.storage.persistent, and what its program must read. */
  storage?: string;
}

const GROUPS: Record<string, string> = { Deployment: 'deployment.apps', StatefulSet: 'statefulset.apps', Rollout: 'rollout.argoproj.io', HorizontalPodAutoscaler: 'horizontalpodautoscaler.autoscaling', Ingress: 'ingress.networking.k8s.io' };

/** `Deployment/api` as kubectl names it: `deployment.apps/api`. */
export function kubectlRef(object: string): string {
  const slash = object.indexOf('/');
  const kind = slash < 0 ? object : object.slice(0, slash);
  return `${GROUPS[kind] ?? kind.toLowerCase()}${slash < 0 ? '' : object.slice(slash)}`;
}

/**
 * kubectl's lines, in document order: `service/api configured`, `failovergroup/shop created (server dry run)`;
 * an imported object says what it became: `deployment.apps/api → service/api configured (ignored: spec.template.spec.nodeSelector)`.
 */
export function resultLines(docs: SourceDoc[], applied: AppliedResult[], dryRun: boolean, imported: ImportedNote[] = []): string[] {
  const lines: string[] = [];
  const dry = dryRun ? ' (server dry run)' : '';
  docs.forEach((d, i) => {
    const notes = imported.filter((n) => n.index === i);
    if (notes.length > 0) {
      for (const n of notes) {
        const name = n.became?.slice(n.became.indexOf('/') + 1);
        const r = name === undefined ? undefined : applied.find((a) => a.service === name);
        const ignored = n.ignored.length > 0 ? ` (ignored: ${n.ignored.join(', ')})` : '';
        // The one thing an imported file can do that its Kubernetes reading does not say: run a command on this machine.
        const runs = n.runsOnHost ? ` (runs on this host as a process: ${n.runsOnHost.map((a) => (/[\s"']/.test(a) || a === '' ? JSON.stringify(a) : a)).join(' ')})` : '';
        // Where a StatefulSet's data goes on Grid: a program reading its mount path would find nothing there.
        const storage = n.storage ? ` (storage: ${n.storage})` : '';
        lines.push(n.became ? `${kubectlRef(n.object)} → ${n.became}${r ? ` ${r.result}` : ''}${dry}${runs}${storage}${ignored}` : `${kubectlRef(n.object)}${ignored}`);
      }
      return;
    }
    const ref = refOf(d.value);
    const r = resultFor(d.value, applied);
    if (ref && r) lines.push(`${ref.kind}/${ref.name} ${r.result}${dry}`);
  });
  return lines;
}

/** A manifest as diff shows it: YAML with keys sorted, so the server's key order never shows as a change. */
export function manifestYaml(m: unknown): string {
  return m === null || m === undefined ? '' : stringify(m, { sortMapEntries: true, lineWidth: 0 });
}

/** A unified diff of live against merged, kubectl's headers; empty when nothing would change. */
export function renderDiff(ref: string, live: unknown, merged: unknown): string {
  const a = manifestYaml(live);
  const b = manifestYaml(merged);
  if (a === b) return '';
  return createTwoFilesPatch(`live/${ref}`, `merged/${ref}`, a, b, undefined, undefined, { headerOptions: FILE_HEADERS_ONLY });
}

/** Why a body is too large for /apply, and what to do, in one line (`refused`: Grid answered 413, whatever the size here). */
export function tooLarge(bytes: number, documents: number, refused = false): string | undefined {
  if (bytes <= MAX_APPLY_BYTES && !refused) return undefined;
  return `the ${documents} documents come to ${bytes} bytes as JSON; Grid's POST /apply takes at most 1 MiB (${MAX_APPLY_BYTES} bytes) in one request${refused ? ' and refused them (413)' : ''}, and gridctl sends every document in one request so that they apply all or nothing: apply them in smaller sets of files`;
}
