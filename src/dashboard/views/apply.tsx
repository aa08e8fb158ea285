// Apply YAML: an editor preloaded with the repo's examples, a preview of what would change,
// and validation errors shown at the line of the field they name.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, request, ApiError, type FieldError } from '../lib/api.js';
import { act } from '../lib/actions.js';
import { useCanAct } from './hooks.js';
import { byLine, locateErrors, syntaxErrors, type LocatedError } from '../lib/yaml-errors.js';
import { formatValue, type Change } from '../lib/spec-diff.js';
import demo from '../../../examples/demo.yaml';
import canaryDemo from '../../../examples/canary-demo.yaml';
import failover from '../../../examples/failover.yaml';
import shop from '../../../examples/shop.yaml';
import autoscaleDemo from '../../../examples/autoscale-demo.yaml';
import apiV1 from '../../../examples/api-v1.yaml';
import apiV2 from '../../../examples/api-v2.yaml';
import apiCanary from '../../../examples/api-canary.yaml';
import pythonHttp from '../../../examples/python-http.yaml';

export const EXAMPLES: Record<string, string> = {
  'demo.yaml': demo,
  'canary-demo.yaml': canaryDemo,
  'failover.yaml': failover,
  'shop.yaml': shop,
  'autoscale-demo.yaml': autoscaleDemo,
  'api-v1.yaml (simulated)': apiV1,
  'api-v2.yaml (simulated)': apiV2,
  'api-canary.yaml (simulated)': apiCanary,
  'python-http.yaml': pythonHttp,
};

interface Applied {
  service?: string;
  failoverGroup?: string;
  result: string;
  changes?: Change[];
  version?: string;
  generation?: number;
}
interface Outcome {
  kind: 'preview' | 'applied';
  applied: Applied[];
  auditId?: number | null;
}

const LINE_PX = 20;
/** The select's value once the text differs from the example it was loaded from. */
const EDITED = '';

export function ApplyView() {
  const [example, setExample] = useState('demo.yaml');
  const [text, setText] = useState(EXAMPLES['demo.yaml']);
  const [errors, setErrors] = useState<LocatedError[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const [scroll, setScroll] = useState(0);
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lines = useMemo(() => text.split('\n').length, [text]);
  const errorLines = useMemo(() => new Map(errors.map((e) => [e.line, e])), [errors]);
  const { canAct, why } = useCanAct();
  const edited = text !== EXAMPLES[example];

  useEffect(() => {
    if (gutter.current) gutter.current.scrollTop = scroll;
  }, [scroll]);

  const choose = (name: string) => {
    setExample(name);
    setText(EXAMPLES[name]);
    setErrors([]);
    setMessage(null);
    setOutcome(null);
  };

  const showErrors = (e: ApiError | undefined, fallback: string) => {
    const located = e?.errors?.length ? byLine(locateErrors(text, e.errors as FieldError[])) : [];
    setErrors(located);
    setMessage(located.length ? `${located.length} field${located.length === 1 ? '' : 's'} to fix (marked in the editor)` : (e?.message ?? fallback));
  };

  const begin = (): boolean => {
    setOutcome(null);
    const syntax = syntaxErrors(text);
    setErrors(syntax);
    setMessage(syntax.length ? 'The YAML does not parse; fix the marked line' : null);
    return syntax.length === 0;
  };

  const preview = async () => {
    if (!begin()) return;
    setBusy(true);
    try {
      // Grid validates and plans it exactly as an apply would, and stores nothing.
      const r = await request<{ applied: Applied[] }>('POST', '/apply', { body: text, contentType: 'application/yaml', query: { dryRun: 'All' } });
      setOutcome({ kind: 'preview', applied: r.data.applied });
    } catch (e) {
      showErrors(e instanceof ApiError ? e : undefined, (e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const apply = async () => {
    if (!begin()) return;
    setBusy(true);
    const r = await act<{ applied: Applied[] }>('Apply', 'POST', '/apply', { body: text, contentType: 'application/yaml' });
    setBusy(false);
    if (r.ok) setOutcome({ kind: 'applied', applied: r.data?.applied ?? [], auditId: r.auditId });
    else showErrors(r.error, 'Apply failed');
  };

  const goTo = (line: number) => {
    const ta = area.current;
    if (!ta) return;
    const start = text.split('\n').slice(0, line - 1).join('\n').length + (line > 1 ? 1 : 0);
    ta.focus();
    ta.setSelectionRange(start, start + (text.split('\n')[line - 1]?.length ?? 0));
    ta.scrollTop = Math.max(0, (line - 3) * LINE_PX);
  };

  return (
    <section class="apply-view" aria-labelledby="apply-h">
      <div class="row">
        <h2 id="apply-h">Apply YAML</h2>
        <label class="inline">
          Example
          <select data-testid="apply-example" value={edited ? EDITED : example} onChange={(e) => e.currentTarget.value !== EDITED && choose(e.currentTarget.value)}>
            {edited && (
              <option value={EDITED} disabled>
                {example} (edited)
              </option>
            )}
            {Object.keys(EXAMPLES).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p class="muted small">
        A spec says what you want (desired state); Grid makes it so. Preview shows what would change without storing anything; Apply stores it and the reconciler starts work.
      </p>
      <div class="editor" style={{ '--line': `${LINE_PX}px` }}>
        <div class="gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => (
            <div key={i} class={errorLines.has(i + 1) ? 'err' : undefined}>
              {errorLines.has(i + 1) ? '✗ ' : ''}
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          ref={area}
          data-testid="apply-editor"
          aria-label="YAML to apply"
          aria-invalid={errors.length > 0}
          aria-describedby="apply-errors"
          spellcheck={false}
          wrap="off"
          value={text}
          onInput={(e) => (setText(e.currentTarget.value), errors.length && setErrors([]))}
          onScroll={(e) => setScroll(e.currentTarget.scrollTop)}
        />
        <div class="inline-errors" aria-hidden="true" style={{ transform: `translateY(${-scroll}px)` }}>
          {errors.map((e) => (
            <div key={e.path + e.line} class="field-error" data-testid="field-error" data-path={e.path} data-line={e.line} style={{ top: `${(e.line - 1) * LINE_PX}px` }}>
              ◀ {e.path || `line ${e.line}`}: {e.message}
            </div>
          ))}
        </div>
      </div>
      <div id="apply-errors" role="alert">
        {message && <p class="error">{message}</p>}
        {errors.length > 0 && (
          <ul class="error-list">
            {errors.map((e) => (
              <li key={e.path + e.line}>
                <button type="button" class="link" onClick={() => goTo(e.line)}>
                  line {e.line}
                </button>
                {e.path ? (
                  <>
                    {' '}
                    <code>{e.path}</code> {e.message}
                  </>
                ) : (
                  `: ${e.message}`
                )}
                {!e.exact && <span class="muted"> (the field is missing; marked at its parent)</span>}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div class="row">
        {/* Grid's dry run is an apply that stores nothing: it needs an operator too. */}
        <button type="button" data-testid="apply-preview" onClick={preview} disabled={busy || !canAct} title={why} aria-describedby={canAct ? undefined : 'apply-why'}>
          Preview changes
        </button>
        <button type="button" class="primary" data-testid="apply-submit" onClick={apply} disabled={busy || !canAct} title={why} aria-describedby={canAct ? undefined : 'apply-why'}>
          Apply
        </button>
        {!canAct && (
          <span id="apply-why" class="muted small">
            {why} Preview and Apply both need one.
          </span>
        )}
      </div>
      {outcome && (
        <div class="panel apply-outcome" data-testid={outcome.kind === 'preview' ? 'apply-diff' : 'apply-result'} role="status">
          <h3>{outcome.kind === 'preview' ? 'What would change' : `Applied${outcome.auditId ? ` · audit #${outcome.auditId}` : ''}`}</h3>
          <ul class="plain-list">
            {outcome.applied.map((a) => (
              <li key={(a.service ?? a.failoverGroup) + a.result}>
                <strong>{a.service ?? `failover group ${a.failoverGroup}`}</strong> <span class={`badge result-${a.result.replace('?', '')}`}>{a.result}</span>
                {a.version && <span class="muted"> · {a.version}</span>}
                {a.changes && a.changes.length > 0 && (
                  <table class="changes">
                    <tbody>
                      {a.changes.map((c) => (
                        <tr key={c.path}>
                          <th scope="row" class="mono">
                            {c.path}
                          </th>
                          <td class="from">{formatValue(c.from)}</td>
                          <td aria-hidden="true">→</td>
                          <td class="to">{formatValue(c.to)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
