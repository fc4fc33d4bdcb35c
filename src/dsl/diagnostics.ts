/**
 * Typed diagnostics for user errors in .style files, and their rendering as
 *
 *   file:line:col: error: message
 *     <source line>
 *     <caret line>
 */
import type { SourceSpan } from '../util/source-span.ts';

export type DiagnosticCode =
  | 'syntax'
  | 'unknown-name'
  | 'duplicate-name'
  | 'arity'
  | 'unknown-attribute'
  | 'attribute-type'
  | 'shape'
  | 'unknown-tap'
  | 'cycle'
  | 'missing-import'
  | 'weights'
  | 'objective';

/** A secondary location, rendered after the diagnostic as `file:line:col: note: message`. */
export interface DiagnosticNote {
  readonly message: string;
  readonly span: SourceSpan;
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly span?: SourceSpan;
  readonly notes?: readonly DiagnosticNote[];
}

export function error(code: DiagnosticCode, message: string, span?: SourceSpan): Diagnostic {
  return { code, severity: 'error', message, ...(span && { span }) };
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/** Sort by file, line, column; stable for equal positions. */
export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return [...diags].sort((a, b) => {
    const fa = a.span?.file ?? '';
    const fb = b.span?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    return (a.span?.line ?? 0) - (b.span?.line ?? 0) || (a.span?.col ?? 0) - (b.span?.col ?? 0);
  });
}

/** Render one diagnostic; `source` is the text of the span's file, when available. */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  if (!d.span) return `error: ${d.message}`;
  return located(d.span, `${d.severity}: ${d.message}`, source);
}

function located(span: SourceSpan, what: string, source?: string): string {
  const { file, line, col, length } = span;
  const head = `${file}:${line}:${col}: ${what}`;
  const text = source?.split(/\r?\n/)[line - 1];
  if (text === undefined) return head;
  const caretPad = text.slice(0, Math.max(col - 1, 0)).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(length, text.length - (col - 1)));
  return `${head}\n  ${text}\n  ${caretPad}${'^'.repeat(width)}`;
}

/** Render diagnostics in source order; `sources` maps a span's file name to its text. */
export function formatDiagnostics(diags: readonly Diagnostic[], sources: ReadonlyMap<string, string>): string {
  return sortDiagnostics(diags)
    .map((d) =>
      [formatDiagnostic(d, d.span ? sources.get(d.span.file) : undefined), ...(d.notes ?? []).map((n) => located(n.span, `note: ${n.message}`, sources.get(n.span.file)))].join(
        '\n',
      ),
    )
    .join('\n');
}
