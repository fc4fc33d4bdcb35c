/**
 * Lowering a network declaration to an IR graph: name resolution, block
 * expansion (with cycle detection), `repeat`, taps and outputs. Errors are
 * collected as diagnostics; a statement that fails "poisons" the names it
 * defines so that later statements using them do not report follow-on errors.
 */
import type { Arg, Call, Ident, LayerStmt, NetworkDecl, QualifiedName, Stmt, TensorType } from '../../dsl/ast.ts';
import { error, type Diagnostic } from '../../dsl/diagnostics.ts';
import { GraphBuilder } from '../ir/builder.ts';
import { type Dim, dimVar } from '../ir/dim.ts';
import { ShapeError } from '../ir/ops.ts';
import type { Graph, SourceSpan } from '../ir/types.ts';
import { CheckError, primitives } from './layers.ts';
import type { Module } from './modules.ts';
import { INT32_MAX, bindArgs, evalExpr, tAny, type Env, type ParamSpec, type Val } from './values.ts';
import { MAX_BLOCK_DEPTH, MAX_EXPANDED, MAX_EXPANSION_DEPTH } from './limits.ts';

/** A value id, or null for a value whose definition failed (already diagnosed). */
type Ref = string | null;

interface Frame {
  readonly path: readonly string[];
  readonly names: Map<string, Ref>;
  readonly env: Env;
  readonly module: Module;
  current: Ref | undefined;
  /** `output` statements: in a network, the graph outputs; in a block, its result (one). */
  readonly outputs: Map<string, Ref>;
  readonly auto: Map<string, number>;
}

interface Ctx {
  readonly b: GraphBuilder;
  readonly diags: Diagnostic[];
  /** Blocks being expanded, for cycle detection: `file#name`. */
  readonly stack: string[];
  /** Statements and layer calls expanded so far (repeats and blocks multiply them). */
  expanded: number;
  /** `repeat` bodies being expanded (with `stack.length`, the expansion depth). */
  repeats: number;
}

/**
 * Thrown when expansion passes MAX_EXPANDED; unwinds the whole expansion, which lowerNetwork
 * reports once at the outermost statement (the one the user can shrink), not at every level.
 */
class ExpansionLimit extends Error {}

function countExpansion(ctx: Ctx): void {
  if (++ctx.expanded > MAX_EXPANDED) throw new ExpansionLimit();
}

const MAX_REPEAT = 1000;

/** Parameter specs for a user-declared parameter list (untyped; defaults evaluated in an empty env). */
export function declParams(params: readonly { name: Ident; default?: import('../../dsl/ast.ts').Expr }[]): ParamSpec[] {
  return params.map((p) => ({ name: p.name.name, type: tAny, ...(p.default && { default: evalExpr(p.default, new Map()) }) }));
}

/** Build the environment of a parameterised declaration from call arguments. */
export function bindEnv(what: string, callee: Ident, params: readonly ParamSpec[], args: readonly Arg[], env: Env, diags: Diagnostic[], span: SourceSpan): Map<string, Val> | undefined {
  const bound = bindArgs(what, callee, params, args, env, diags, span);
  if (!bound.ok) return undefined;
  return new Map([...bound.values].map(([k, v]) => [k, v as Val]));
}

export interface LoweredNetwork {
  readonly graph: Graph;
  /** Whether lowering reported errors (the graph is then partial). */
  readonly ok: boolean;
}

/** Lower a network declaration with the given parameter environment. */
export function lowerNetwork(decl: NetworkDecl, module: Module, env: Env, diags: Diagnostic[]): LoweredNetwork {
  const before = diags.length;
  const ctx: Ctx = { b: new GraphBuilder(), diags, stack: [], expanded: 0, repeats: 0 };
  const frame: Frame = { path: [], names: new Map(), env, module, current: undefined, outputs: new Map(), auto: new Map() };
  for (const s of decl.body) {
    try {
      lowerStmt(ctx, frame, s, true);
    } catch (e) {
      if (!(e instanceof ExpansionLimit)) throw e;
      diags.push(error('arity', `this statement expands to more than ${MAX_EXPANDED.toLocaleString('en-US')} layers and statements (the limit per network)`, s.span));
      return { graph: ctx.b.build(), ok: false };
    }
  }
  if (frame.outputs.size === 0 && frame.current) frame.outputs.set('output', frame.current);
  if (frame.outputs.size === 0 && diags.length === before) diags.push(error('arity', `network '${decl.name.name}' computes nothing`, decl.name.span));
  for (const [name, ref] of frame.outputs) if (ref) ctx.b.output(name, ref);
  for (const [name, ref] of frame.names) if (ref) ctx.b.tap(name, ref);
  return { graph: ctx.b.build(), ok: diags.length === before };
}

function define(ctx: Ctx, frame: Frame, name: Ident, ref: Ref): void {
  if (frame.names.has(name.name)) {
    ctx.diags.push(error('duplicate-name', `'${name.name}' is already defined in this scope`, name.span));
    return;
  }
  frame.names.set(name.name, ref);
}

function lookup(ctx: Ctx, frame: Frame, q: QualifiedName): Ref {
  const key = q.parts.map((p) => p.name).join('.');
  const r = frame.names.get(key);
  if (r !== undefined) return r;
  ctx.diags.push(error('unknown-name', `unknown name '${key}'${suggest(key, frame.names.keys())}`, q.span));
  return null;
}

/** ", did you mean 'x'?" for a close known name (edit distance <= 2). */
function suggest(name: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? `; did you mean '${best}'?` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length]![b.length]!;
}

function lowerStmt(ctx: Ctx, frame: Frame, s: Stmt, isNetwork: boolean): void {
  countExpansion(ctx);
  switch (s.kind) {
    case 'input': {
      if (!isNetwork) return; // block inputs are bound by the caller
      if (!s.type) {
        ctx.diags.push(error('attribute-type', `network input '${s.name.name}' needs a type, e.g. image[N, 3, H, W]`, s.name.span));
        define(ctx, frame, s.name, null);
        return;
      }
      const shape = tensorShape(ctx, s.type);
      const ref = shape ? ctx.b.input(s.name.name, shape, s.name.span) : null;
      define(ctx, frame, s.name, ref);
      frame.current = ref;
      return;
    }
    case 'layer': {
      if (s.name && frame.names.has(s.name.name)) {
        define(ctx, frame, s.name, null); // reports the duplicate; the layer is not lowered
        frame.current = null;
        return;
      }
      const r = lowerLayerStmt(ctx, frame, s);
      if (s.name) define(ctx, frame, s.name, r);
      frame.current = r;
      return;
    }
    case 'output': {
      let ref: Ref;
      if (s.value) {
        ref = lowerLayerStmt(ctx, frame, { ...s.value, name: s.name });
        define(ctx, frame, s.name, ref);
        frame.current = ref;
      } else {
        ref = lookup(ctx, frame, { parts: [s.name], span: s.name.span });
      }
      if (frame.outputs.has(s.name.name)) ctx.diags.push(error('duplicate-name', `output '${s.name.name}' is declared twice`, s.name.span));
      else if (!isNetwork && frame.outputs.size > 0) ctx.diags.push(error('arity', 'a block has exactly one output', s.span));
      else frame.outputs.set(s.name.name, ref);
      return;
    }
    case 'repeat': {
      const n = s.count.value;
      if (!Number.isInteger(n) || n < 1 || n > MAX_REPEAT) {
        ctx.diags.push(error('attribute-type', `repeat count must be an integer from 1 to ${MAX_REPEAT}, got ${n}`, s.count.span));
        frame.current = null;
        return;
      }
      if (tooDeep(ctx, s.span)) {
        frame.current = null;
        return;
      }
      ctx.repeats++;
      try {
        lowerRepeat(ctx, frame, s, n);
      } finally {
        ctx.repeats--;
      }
      return;
    }
  }
}

/** Whether opening one more repeat body or block would pass MAX_EXPANSION_DEPTH (then diagnosed at `span`). */
function tooDeep(ctx: Ctx, span: SourceSpan): boolean {
  if (ctx.repeats + ctx.stack.length < MAX_EXPANSION_DEPTH) return false;
  ctx.diags.push(error('cycle', `blocks and repeats nested more than ${MAX_EXPANSION_DEPTH} deep (${ctx.stack.length} blocks, ${ctx.repeats} repeats)`, span));
  return true;
}

function lowerRepeat(ctx: Ctx, frame: Frame, s: Extract<Stmt, { kind: 'repeat' }>, n: number): void {
  for (let i = 1; i <= n; i++) {
    const inst = s.prefix ? `${s.prefix.name}${i}` : undefined;
    const child: Frame = {
      path: inst ? [...frame.path, inst] : frame.path,
      names: new Map(),
      env: frame.env,
      module: frame.module,
      current: frame.current,
      outputs: new Map(),
      auto: inst ? new Map() : frame.auto,
    };
    const errorsBefore = ctx.diags.length;
    for (const st of s.body) lowerStmt(ctx, child, st, false);
    const result = child.outputs.size ? [...child.outputs.values()][0]! : (child.current ?? null);
    merge(ctx, frame, child, inst, s.prefix ?? s.count);
    if (inst) define(ctx, frame, { name: inst, span: s.prefix!.span }, result);
    frame.current = result;
    if (ctx.diags.length > errorsBefore) break; // the same errors would repeat in every instance
  }
}

/** Copy a finished child scope's names into its parent, under `inst.` when the child is a named instance. */
function merge(ctx: Ctx, parent: Frame, child: Frame, inst: string | undefined, at: { span: SourceSpan }): void {
  for (const [k, v] of child.names) {
    const key = inst ? `${inst}.${k}` : k;
    if (parent.names.has(key)) ctx.diags.push(error('duplicate-name', `'${key}' is already defined in this scope (name the repetition or block instance)`, at.span));
    else parent.names.set(key, v);
  }
}

function tensorShape(ctx: Ctx, t: TensorType): Dim[] | undefined {
  const kind = t.kind.name;
  if (kind !== 'image' && kind !== 'tensor') {
    ctx.diags.push(error('unknown-name', `unknown type '${kind}' (types: image, tensor)`, t.kind.span));
    return undefined;
  }
  if (kind === 'image' && t.dims.length !== 4) {
    ctx.diags.push(error('shape', `image types have four dimensions [N, C, H, W], got ${t.dims.length}`, t.span));
    return undefined;
  }
  const dims: Dim[] = [];
  for (const d of t.dims) {
    if ('name' in d) dims.push(dimVar(d.name));
    else if (!Number.isInteger(d.value) || d.value < 1 || d.value > INT32_MAX) {
      ctx.diags.push(error('shape', `dimension must be a positive integer or a size name, got ${d.value}${d.value > INT32_MAX ? ` (beyond stc's limit of ${INT32_MAX}, int32)` : ''}`, d.span));
      return undefined;
    } else dims.push(d.value);
  }
  if (kind === 'image' && typeof dims[1] !== 'number') {
    ctx.diags.push(error('shape', 'the channel count of an image must be a number', t.dims[1]!.span));
    return undefined;
  }
  return dims;
}

function autoName(frame: Frame, op: string): string {
  let n = frame.auto.get(op) ?? 0;
  let name: string;
  do name = `${op}_${++n}`;
  while (frame.names.has(name));
  frame.auto.set(op, n);
  return name;
}

function lowerLayerStmt(ctx: Ctx, frame: Frame, s: LayerStmt): Ref {
  let inputs: Ref[] | undefined = s.sources?.map((q) => lookup(ctx, frame, q));
  if (s.calls.length === 0) {
    if (!inputs || inputs.length !== 1) {
      ctx.diags.push(error('arity', 'a tuple of values must feed a layer, e.g. (a, b) -> concat()', s.span));
      return null;
    }
    return inputs[0]!;
  }
  let result: Ref = null;
  s.calls.forEach((call, i) => {
    const last = i === s.calls.length - 1;
    if (!inputs) {
      if (frame.current === undefined) {
        ctx.diags.push(error('arity', `'${call.callee.name}' has no input: nothing comes before it (write x -> ${call.callee.name}(...))`, call.callee.span));
        inputs = [null];
      } else inputs = [frame.current];
    }
    const name = last && s.name ? s.name.name : autoName(frame, call.callee.name);
    result = lowerCall(ctx, frame, call, inputs, name, !!(last && s.name));
    inputs = [result];
  });
  return result;
}

function lowerCall(ctx: Ctx, frame: Frame, call: Call, inputs: Ref[], name: string, named: boolean): Ref {
  countExpansion(ctx);
  const callee = call.callee.name;
  const found = frame.module.scope.get(callee);
  if (found && found.decl.kind === 'block') return expandBlock(ctx, frame, call, inputs, name, named, found.decl, found.module);
  const prim = primitives.get(callee);
  if (!prim) {
    if (found) ctx.diags.push(error('unknown-name', `'${callee}' is a ${found.decl.kind === 'objective' ? 'objective' : 'network'}, not a layer or block`, call.callee.span));
    else ctx.diags.push(error('unknown-name', `unknown layer or block '${callee}'${suggest(callee, [...primitives.keys(), ...blockNames(frame.module)])}`, call.callee.span));
    return null;
  }
  const bound = bindArgs(callee, call.callee, prim.params, call.args, frame.env, ctx.diags, call.span);
  const want = prim.inputs;
  if (want === 'many' ? inputs.length < 2 : inputs.length !== want) {
    const n = want === 'many' ? 'two or more inputs' : `${want} input${want === 1 ? '' : 's'}`;
    ctx.diags.push(error('arity', `${callee} takes ${n}, got ${inputs.length}${want !== 1 ? ` (write (a, b) -> ${callee}())` : ''}`, call.callee.span));
    return null;
  }
  if (!bound.ok || inputs.some((r) => r === null)) return null;
  const layer = [...frame.path, name].join('.');
  try {
    return prim.lower({ b: ctx.b, layer, span: call.span }, inputs as string[], bound.values);
  } catch (e) {
    if (e instanceof ShapeError) {
      ctx.diags.push(error('shape', `${named ? `layer '${layer}'` : callee}: ${e.message}`, call.span));
      return null;
    }
    if (e instanceof CheckError) {
      ctx.diags.push(error(e.code, e.message, call.span));
      return null;
    }
    throw e;
  }
}

function blockNames(m: Module): string[] {
  return [...m.scope].filter(([, v]) => v.decl.kind === 'block').map(([k]) => k);
}

/**
 * Errors found while expanding a block from another file (the stdlib, an imported spec) are most often caused
 * by the caller's arguments (`residual_in(-1)`): report them at the caller's call, with a note at the line
 * inside the block where they surfaced.
 */
function relocateToCallSite(diags: Diagnostic[], from: number, callerFile: string, call: Call, block: string): void {
  for (let i = from; i < diags.length; i++) {
    const d = diags[i]!;
    if (!d.span || d.span.file === callerFile) continue;
    const note = { message: `in block ${block}, expanded from the call above`, span: d.span };
    diags[i] = { ...d, span: call.span, notes: [...(d.notes ?? []), note] };
  }
}

function expandBlock(
  ctx: Ctx,
  frame: Frame,
  call: Call,
  inputs: Ref[],
  name: string,
  named: boolean,
  decl: import('../../dsl/ast.ts').BlockDecl,
  module: Module,
): Ref {
  const key = `${module.file}#${decl.name.name}`;
  if (ctx.stack.includes(key)) {
    const chain = [...ctx.stack.slice(ctx.stack.indexOf(key)), key].map((k) => k.split('#')[1]).join(' -> ');
    ctx.diags.push(error('cycle', `block '${decl.name.name}' uses itself (${chain})`, call.callee.span));
    return null;
  }
  if (tooDeep(ctx, call.callee.span)) return null;
  if (ctx.stack.length >= MAX_BLOCK_DEPTH) {
    ctx.diags.push(error('cycle', `blocks nested more than ${MAX_BLOCK_DEPTH} deep (block '${decl.name.name}' inside ${ctx.stack.length} other blocks)`, call.callee.span));
    return null;
  }
  const env = bindEnv(`block ${decl.name.name}`, call.callee, declParams(decl.params), call.args, frame.env, ctx.diags, call.span);
  const declared = decl.body.filter((s) => s.kind === 'input');
  const want = Math.max(1, declared.length);
  if (inputs.length !== want) {
    ctx.diags.push(error('arity', `block ${decl.name.name} takes ${want} input${want === 1 ? '' : 's'}, got ${inputs.length}`, call.callee.span));
    return null;
  }
  if (!env) return null;
  // Only named instances open a naming scope: `res1 = residual(128)` gives res1.conv1.weight.
  const child: Frame = {
    path: named ? [...frame.path, name] : frame.path,
    names: new Map(),
    env,
    module,
    current: inputs[0],
    outputs: new Map(),
    auto: named ? new Map() : frame.auto,
  };
  declared.forEach((s, i) => {
    if (s.kind === 'input') child.names.set(s.name.name, inputs[i] ?? null);
  });
  ctx.stack.push(key);
  const before = ctx.diags.length;
  for (const s of decl.body) lowerStmt(ctx, child, s, false);
  ctx.stack.pop();
  if (module.file !== frame.module.file) relocateToCallSite(ctx.diags, before, frame.module.file, call, decl.name.name);
  const result = child.outputs.size ? [...child.outputs.values()][0]! : (child.current ?? null);
  // Block inputs are the caller's values: not re-exported as taps of the instance.
  for (const s of declared) if (s.kind === 'input') child.names.delete(s.name.name);
  if (named) merge(ctx, frame, child, name, call.callee);
  else merge(ctx, frame, child, undefined, call.callee);
  return ctx.diags.length > before ? null : result;
}
