// Maps the paths of /apply's validation errors ("spec.replicas", "[1].spec.env[0].value") to
// the line of the YAML text they name, so the editor can mark the field itself.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';

export interface LocatedError {
  path: string;
  message: string;
  /** 1-based line in the text; the document's first line when the path names nothing in it. */
  line: number;
  /** False when the named field is missing and the line is that of its nearest parent. */
  exact: boolean;
}

type Segment = string | number;

/** "[1].spec.env[0].value" → document 1, ["spec", "env", 0, "value"]. */
export function parseErrorPath(path: string): { doc: number; segments: Segment[] } {
  let rest = path.trim();
  let doc = 0;
  const m = /^\[(\d+)\]\.?/.exec(rest);
  if (m) {
    doc = Number(m[1]);
    rest = rest.slice(m[0].length);
  }
  const segments: Segment[] = [];
  for (const part of rest.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    segments.push(part.startsWith('[') ? Number(part.slice(1, -1)) : part);
  }
  return { doc, segments };
}

/** Where `node` starts: for a map entry, the key's line (that is where the user reads the field). */
function startOf(node: unknown): number | null {
  if (isPair(node)) return startOf(node.key) ?? startOf(node.value);
  const range = (node as Node | null)?.range;
  return range ? range[0] : null;
}

function childOf(node: unknown, seg: Segment): unknown {
  if (isMap(node)) return node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
  if (isSeq(node) && typeof seg === 'number') return node.items[seg];
  return undefined;
}

/** The parser's "… at line 3, column 1:" without the position (the editor shows the line) or the dangling colon. */
export function syntaxMessage(raw: string): string {
  return raw
    .split('\n')[0]
    .replace(/\s+at line \d+, column \d+:?\s*$/, '')
    .replace(/:\s*$/, '');
}

/** YAML syntax errors, located by the parser itself; `path` is empty (they name a line, not a field). */
export function syntaxErrors(text: string): LocatedError[] {
  const out: LocatedError[] = [];
  for (const d of parseAllDocuments(text)) {
    for (const err of d.errors ?? []) out.push({ path: '', message: syntaxMessage(err.message), line: err.linePos?.[0]?.line ?? 1, exact: true });
  }
  return byLine(out);
}

/** Top to bottom, as the user reads the text. */
export function byLine(errors: readonly LocatedError[]): LocatedError[] {
  return [...errors].sort((a, b) => a.line - b.line);
}

export function locateErrors(text: string, errors: readonly { path: string; message: string }[]): LocatedError[] {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter });
  const list = Array.isArray(docs) ? docs : [];
  const lineAt = (offset: number) => counter.linePos(offset).line;
  return errors.map(({ path, message }) => {
    const { doc, segments } = parseErrorPath(path);
    const d = list[doc];
    if (!d) return { path, message, line: 1, exact: false };
    let offset = d.contents?.range?.[0] ?? d.range[0];
    let node: unknown = d.contents;
    let exact = true;
    for (const seg of segments) {
      const next = childOf(isPair(node) ? node.value : node, seg);
      if (next === undefined || next === null) {
        exact = false;
        break;
      }
      node = next;
      offset = startOf(next) ?? offset;
    }
    return { path, message, line: lineAt(offset), exact };
  });
}
