/**
 * Compile-time values of attribute expressions, and binding of call
 * arguments to declared parameters (for primitive layers, blocks, networks,
 * weight sources and objective terms alike).
 */
import type { Arg, Expr, Ident } from '../../dsl/ast.ts';
import { error, type Diagnostic } from '../../dsl/diagnostics.ts';
import type { SourceSpan } from '../ir/types.ts';

export type Val =
  | { readonly t: 'num'; readonly v: number; readonly int: boolean; readonly span: SourceSpan }
  | { readonly t: 'str'; readonly v: string; readonly span: SourceSpan }
  | { readonly t: 'bool'; readonly v: boolean; readonly span: SourceSpan }
  /** A bare word: an enumeration member such as `reflect` or `avg`. */
  | { readonly t: 'sym'; readonly v: string; readonly span: SourceSpan }
  | { readonly t: 'list'; readonly items: readonly Val[]; readonly span: SourceSpan };

export type Env = ReadonlyMap<string, Val>;

/** Evaluate an expression; bare names are looked up in `env` (block/network parameters), else they are symbols. */
export function evalExpr(e: Expr, env: Env): Val {
  switch (e.kind) {
    case 'number':
      return { t: 'num', v: e.value, int: e.isInt, span: e.span };
    case 'string':
      return { t: 'str', v: e.value, span: e.span };
    case 'bool':
      return { t: 'bool', v: e.value, span: e.span };
    case 'list':
      return { t: 'list', items: e.items.map((i) => evalExpr(i, env)), span: e.span };
    case 'name': {
      const text = e.name.parts.map((p) => p.name).join('.');
      const bound = env.get(text);
      if (bound) return { ...bound, span: e.span } as Val;
      return { t: 'sym', v: text, span: e.span };
    }
  }
}

export function describeVal(v: Val): string {
  switch (v.t) {
    case 'num':
      return String(v.v);
    case 'str':
      return JSON.stringify(v.v);
    case 'bool':
      return String(v.v);
    case 'sym':
      return v.v;
    case 'list':
      return `[${v.items.map(describeVal).join(', ')}]`;
  }
}

/** A decoding failure, with the message that follows "'attr' " in a diagnostic. */
export class Bad {
  constructor(readonly msg: string) {}
}

/** Attribute types. `decode` returns the decoded value or a `Bad`. */
export interface AttrType<T> {
  readonly name: string;
  decode(v: Val): T | Bad;
}

const num = (v: Val): number | undefined => (v.t === 'num' ? v.v : undefined);

/**
 * Integer attributes become ONNX int64 attributes, but ONNX Runtime computes shapes and pads in 32 bits on
 * some paths: accept only integers within int32 (1e308 is an "integer" to JavaScript).
 */
export const INT32_MAX = 2 ** 31 - 1;

const isInt32 = (v: Val, min: number): v is Extract<Val, { t: 'num' }> => v.t === 'num' && Number.isInteger(v.v) && v.v >= min && v.v <= INT32_MAX;

/** "expected <what>, got <v>", naming the int32 limit when that is what <v> broke. */
function badInt(what: string, v: Val): Bad {
  const beyond = v.t === 'num' && Number.isFinite(v.v) && Math.abs(v.v) > INT32_MAX;
  return new Bad(`expected ${what}, got ${describeVal(v)}${beyond ? ` (beyond stc's limit of ${INT32_MAX}, int32)` : ''}`);
}

export const tInt: AttrType<number> = {
  name: 'an integer',
  decode: (v) => (isInt32(v, -INT32_MAX) ? v.v : badInt('an integer', v)),
};

export const tPosInt: AttrType<number> = {
  name: 'a positive integer',
  decode: (v) => (isInt32(v, 1) ? v.v : badInt('a positive integer', v)),
};

/** Channel counts: positive integers up to 65536 (a sanity bound; larger values are almost surely typos). */
export const tChannels: AttrType<number> = {
  name: 'a channel count',
  decode: (v) =>
    v.t === 'num' && Number.isInteger(v.v) && v.v >= 1 && v.v <= 65536 ? v.v : new Bad(`expected a channel count from 1 to 65536, got ${describeVal(v)}`),
};

export const tNonNegInt: AttrType<number> = {
  name: 'a non-negative integer',
  decode: (v) => (isInt32(v, 0) ? v.v : badInt('a non-negative integer', v)),
};

export const tFloat: AttrType<number> = {
  name: 'a number',
  decode: (v) => (v.t === 'num' && Number.isFinite(v.v) ? v.v : new Bad(`expected a number, got ${describeVal(v)}`)),
};

export const tPosFloat: AttrType<number> = {
  name: 'a positive number',
  decode: (v) => (v.t === 'num' && Number.isFinite(v.v) && v.v > 0 ? v.v : new Bad(`expected a positive number, got ${describeVal(v)}`)),
};

export const tBool: AttrType<boolean> = {
  name: 'true or false',
  decode: (v) => (v.t === 'bool' ? v.v : new Bad(`expected true or false, got ${describeVal(v)}`)),
};

export const tString: AttrType<string> = {
  name: 'a string',
  decode: (v) => (v.t === 'str' ? v.v : new Bad(`expected a string, got ${describeVal(v)}`)),
};

export function tEnum<E extends string>(...members: E[]): AttrType<E> {
  return {
    name: `one of ${members.join(', ')}`,
    decode: (v) => (v.t === 'sym' && (members as string[]).includes(v.v) ? (v.v as E) : new Bad(`expected one of ${members.join(', ')}, got ${describeVal(v)}`)),
  };
}

/** An integer or a pair `[a, b]` (height, width): kernel sizes, strides, dilations. */
export function tPair(elem: AttrType<number>): AttrType<[number, number]> {
  return {
    name: `${elem.name} or a pair of them`,
    decode(v) {
      const items = v.t === 'list' ? v.items : [v, v];
      if (items.length !== 2) return new Bad(`expected ${elem.name} or a pair [h, w], got ${describeVal(v)}`);
      const a = elem.decode(items[0]!);
      const b = elem.decode(items[1]!);
      if (a instanceof Bad) return a;
      if (b instanceof Bad) return b;
      return [a, b];
    },
  };
}

/** Padding amounts: `p`, `[ph, pw]` or `[top, left, bottom, right]`, as [top, left, bottom, right]. */
export const tPads: AttrType<[number, number, number, number]> = {
  name: 'padding amounts',
  decode(v) {
    const items = v.t === 'list' ? v.items : [v];
    const ns = items.map((i) => tNonNegInt.decode(i));
    const bad = ns.find((n) => n instanceof Bad);
    if (bad !== undefined) return bad;
    const n = ns as number[];
    if (n.length === 1) return [n[0]!, n[0]!, n[0]!, n[0]!];
    if (n.length === 2) return [n[0]!, n[1]!, n[0]!, n[1]!];
    if (n.length === 4) return [n[0]!, n[1]!, n[2]!, n[3]!];
    return new Bad(`expected p, [ph, pw] or [top, left, bottom, right], got ${describeVal(v)}`);
  },
};

export const tFloats: AttrType<number[]> = {
  name: 'a list of numbers',
  decode(v) {
    if (v.t !== 'list') return new Bad(`expected a list of numbers, got ${describeVal(v)}`);
    const out: number[] = [];
    for (const i of v.items) {
      const n = num(i);
      if (n === undefined) return new Bad(`expected a list of numbers, got ${describeVal(v)}`);
      out.push(n);
    }
    return out;
  },
};

/** An integer or a list of integers (reduction axes). */
export const tInts: AttrType<number[]> = {
  name: 'an integer or a list of integers',
  decode(v) {
    const items = v.t === 'list' ? v.items : [v];
    const out: number[] = [];
    for (const i of items) {
      const n = num(i);
      if (n === undefined || !Number.isInteger(n)) return new Bad(`expected an integer or a list of integers, got ${describeVal(v)}`);
      out.push(n);
    }
    return out;
  },
};

/** Untyped (block and network parameters): any value. */
export const tAny: AttrType<Val> = { name: 'a value', decode: (v) => v };

export interface ParamSpec {
  readonly name: string;
  readonly type: AttrType<unknown>;
  /** Whether the parameter can be passed by position (in declaration order). */
  readonly positional?: boolean;
  /** A default value; parameters without one are required. */
  readonly default?: unknown;
}

export interface BoundArgs {
  /** Decoded values by parameter name (defaults filled in). */
  readonly values: Map<string, unknown>;
  /** Raw values as written, with spans (absent for defaults). */
  readonly raw: Map<string, Val>;
  readonly ok: boolean;
}

/**
 * Bind `args` to `params`: positional arguments in order, then `key: value`.
 * Reports arity, unknown-attribute and attribute-type diagnostics against `what` (e.g. "conv").
 */
export function bindArgs(
  what: string,
  callee: Ident | { span: SourceSpan },
  params: readonly ParamSpec[],
  args: readonly Arg[],
  env: Env,
  diags: Diagnostic[],
  callSpan: SourceSpan,
): BoundArgs {
  const values = new Map<string, unknown>();
  const raw = new Map<string, Val>();
  let ok = true;
  const positional = params.filter((p) => p.positional !== false);
  let pos = 0;
  for (const a of args) {
    let p: ParamSpec | undefined;
    if (a.key) {
      p = params.find((q) => q.name === a.key!.name);
      if (!p) {
        const known = params.map((q) => q.name).join(', ') || 'none';
        diags.push(error('unknown-attribute', `${what} has no attribute '${a.key.name}' (attributes: ${known})`, a.key.span));
        ok = false;
        continue;
      }
    } else {
      p = positional[pos++];
      if (!p) {
        const most = positional.length === 0 ? 'no positional arguments' : `at most ${positional.length} positional argument${positional.length === 1 ? '' : 's'}`;
        diags.push(error('arity', `${what} takes ${most}`, a.span ?? callSpan));
        ok = false;
        continue;
      }
    }
    if (raw.has(p.name)) {
      diags.push(error('arity', `${what}: attribute '${p.name}' is given twice`, a.span ?? callSpan));
      ok = false;
      continue;
    }
    const v = evalExpr(a.value, env);
    raw.set(p.name, v);
    const d = p.type.decode(v);
    if (d instanceof Bad) {
      diags.push(error('attribute-type', `${what}: '${p.name}' ${d.msg}`, v.span));
      ok = false;
      continue;
    }
    values.set(p.name, d);
  }
  for (const p of params) {
    if (values.has(p.name) || raw.has(p.name)) continue;
    if (p.default !== undefined) values.set(p.name, p.default);
    else {
      diags.push(error('arity', `${what} needs '${p.name}'`, callee.span));
      ok = false;
    }
  }
  return { values, raw, ok };
}
