/**
 * Lowering of an IR graph to a tfjs plan: a straight-line list of runtime calls
 * (runtime.js) with every layout change made explicit.
 *
 * Layout policy: 4-D activations live in NHWC, tfjs's native convolution
 * layout, from the first spatial op that touches them until something needs
 * the IR's NCHW order again (reshape, transpose, matmul, expand, graph outputs).
 * A value converted once is reused by every consumer. Weights stay in the IR
 * layout (conv OIHW, transposed conv IOHW) and are converted by `prep` steps.
 *
 * Any step whose tensor arguments are all parameters or constants goes to
 * `prep` (constant folding: the interpreter runs prep once at compile time and
 * the generated program once at load), the rest to `body`.
 *
 * Both the interpreter (interpreter.ts) and the code generator (codegen.ts)
 * consume the same plan, so they cannot disagree on the lowering.
 */
import type { Dim, DimExpr } from '../../compiler/ir/dim.ts';
import type { Graph, Node, OpKind, PoolAttrs } from '../../compiler/ir/types.ts';
import type { RuntimeOpName } from './runtime.js';

/** An attribute value; `{ $dim }` marks a symbolic size, evaluated at run time from the input sizes. */
export type PlanAttrValue =
  | number
  | string
  | boolean
  | null
  | readonly PlanAttrValue[]
  | { readonly $dim: DimExpr }
  | { readonly [k: string]: PlanAttrValue };
export type PlanAttrs = { readonly [k: string]: PlanAttrValue };

export type Layout = 'nchw' | 'nhwc';

export interface PlanStep {
  /** Name of the value this step defines (an IR value id, or `<id>@<form>` for a converted copy). */
  readonly out: string;
  readonly op: RuntimeOpName;
  /** Value names; null for an absent optional input (a conv without bias). */
  readonly args: readonly (string | null)[];
  readonly attrs?: PlanAttrs;
  /** The IR node this step lowers (absent for layout and weight conversions). */
  readonly node?: { readonly id: string; readonly op: OpKind; readonly layer?: string };
}

export interface PlanTensor {
  readonly id: string;
  readonly shape: readonly Dim[];
}

export interface TfjsPlan {
  /** Graph inputs, fed in NCHW (IR layout). */
  readonly inputs: readonly PlanTensor[];
  /** Parameters and constants the plan reads, in IR layout. */
  readonly constants: readonly PlanTensor[];
  /** Steps that depend only on constants (weight layout conversions, folded constant expressions). */
  readonly prep: readonly PlanStep[];
  readonly body: readonly PlanStep[];
  /** Graph outputs: name, plan value (in IR layout) and IR shape. */
  readonly outputs: readonly { readonly name: string; readonly value: string; readonly shape: readonly Dim[] }[];
}

/** NCHW axis -> NHWC axis. */
const NHWC_AXIS = [0, 3, 1, 2] as const;

function nhwcAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return NHWC_AXIS[a]!;
}

function dimAttr(d: Dim): PlanAttrValue {
  return typeof d === 'number' ? d : { $dim: d };
}

function poolAttrs(a: PoolAttrs): PlanAttrs {
  return { kernel: [...a.kernel], strides: [...a.strides], pads: [...a.pads], ceilMode: a.ceilMode, countIncludePad: a.countIncludePad };
}

const SPATIAL_OUT: ReadonlySet<OpKind> = new Set<OpKind>([
  'conv2d',
  'convTranspose2d',
  'pad',
  'batchNorm',
  'instanceNorm',
  'maxPool',
  'avgPool',
  'globalAvgPool',
  'upsampleNearest',
  'depthToSpace',
  'maxPoolGrad',
  'avgPoolGrad',
  'padGrad',
  'upsampleNearestGrad',
]);

class Planner {
  private readonly layouts = new Map<string, Layout>();
  private readonly constant = new Set<string>();
  private readonly forms = new Map<string, string>();
  readonly prep: PlanStep[] = [];
  readonly body: PlanStep[] = [];
  readonly constants: PlanTensor[] = [];
  readonly inputs: PlanTensor[] = [];

  constructor(private readonly g: Graph) {
    for (const id of g.inputs) {
      this.layouts.set(id, 'nchw');
      this.inputs.push({ id, shape: this.shape(id) });
    }
  }

  shape(id: string): readonly Dim[] {
    const v = this.g.values.get(id);
    if (!v) throw new Error(`tfjs plan: unknown value ${id}`);
    return v.shape;
  }

  private rank(id: string): number {
    return this.shape(id).length;
  }

  /** The primary layout of a value, registering parameters and constants on first use. */
  layout(id: string): Layout {
    const known = this.layouts.get(id);
    if (known) return known;
    const v = this.g.values.get(id);
    if (!v || (v.kind !== 'param' && v.kind !== 'const')) throw new Error(`tfjs plan: value ${id} is read before it is defined`);
    this.layouts.set(id, 'nchw');
    this.constant.add(id);
    this.constants.push({ id, shape: v.shape });
    return 'nchw';
  }

  emit(step: PlanStep, layout: Layout): string {
    const isConst = step.args.every((a) => a === null || this.constant.has(a));
    if (isConst) this.constant.add(step.out);
    (isConst ? this.prep : this.body).push(step);
    this.layouts.set(step.out, layout);
    return step.out;
  }

  /**
   * The value in the requested layout. For rank < 4 operands asked for 'nhwc', the copy
   * broadcasts against NHWC tensors the way the original broadcast against NCHW ones.
   */
  as(id: string, want: Layout): string {
    const have = this.layout(id);
    if (have === want) return id;
    const r = this.rank(id);
    if (want === 'nhwc' && r === 0) return id;
    const key = `${id}@${want}`;
    const done = this.forms.get(key);
    if (done) return done;
    const op: RuntimeOpName = want === 'nchw' ? 'toNchw' : r === 4 ? 'toNhwc' : 'broadcastNhwc';
    this.forms.set(key, key);
    return this.emit({ out: key, op, args: [id] }, want);
  }

  /** A weight converted by a prep-style runtime function (memoised per value and attributes). */
  derived(id: string, op: RuntimeOpName, attrs: PlanAttrs): string {
    const src = this.as(id, 'nchw');
    const key = `${id}@${op}${JSON.stringify(attrs)}`;
    const done = this.forms.get(key);
    if (done) return done;
    const stem = `${id}@${op === 'convFilter' ? 'hwio' : 'hwoi'}`;
    let out = stem;
    for (let k = 2; [...this.forms.values()].includes(out); k++) out = `${stem}${k}`;
    this.forms.set(key, out);
    return this.emit({ out, op, args: [src], attrs }, 'nchw');
  }

  lower(n: Node): void {
    const info = { id: n.id, op: n.op, ...(n.layer !== undefined && { layer: n.layer }) };
    const out = n.outputs[0]!;
    const step = (op: RuntimeOpName, args: (string | null)[], layout: Layout, attrs?: PlanAttrs): void => {
      this.emit({ out, op, args, ...(attrs && { attrs }), node: info }, layout);
    };
    const nhwc = (i: number): string => this.as(n.inputs[i]!, 'nhwc');
    const asis = (i: number): string | null => (n.inputs[i] === undefined ? null : this.as(n.inputs[i]!, 'nchw'));
    const nchw = (i: number): string => this.as(n.inputs[i]!, 'nchw');
    switch (n.op) {
      case 'conv2d': {
        const a = n.attrs;
        const w = this.shape(n.inputs[1]!);
        const depthwise = a.group > 1 && w[1] === 1;
        const filter = this.derived(n.inputs[1]!, 'convFilter', { group: a.group, depthwise });
        const pads = a.padding.kind === 'same' ? 'same' : [...a.padding.pads];
        step('conv2d', [nhwc(0), filter, asis(2)], 'nhwc', {
          strides: [...a.strides],
          dilations: [...a.dilations],
          pads,
          group: a.group,
          depthwise,
        });
        return;
      }
      case 'convTranspose2d': {
        const a = n.attrs;
        const filter = this.derived(n.inputs[1]!, 'convTransposeFilter', { dilations: [...a.dilations] });
        const pads = a.padding.kind === 'same' ? 'same' : [...a.padding.pads];
        step('convTranspose2d', [nhwc(0), filter, asis(2)], 'nhwc', {
          strides: [...a.strides],
          pads,
          outputPadding: [...a.outputPadding],
          group: a.group,
        });
        return;
      }
      case 'pad':
        step('pad', [nhwc(0)], 'nhwc', { mode: n.attrs.mode, pads: [...n.attrs.pads], value: n.attrs.value });
        return;
      case 'padGrad':
        step('padGrad', [nhwc(0)], 'nhwc', { mode: n.attrs.mode, pads: [...n.attrs.pads], value: n.attrs.value });
        return;
      case 'batchNorm':
        step('batchNorm', [nhwc(0), asis(1), asis(2), asis(3), asis(4)], 'nhwc', { epsilon: n.attrs.epsilon });
        return;
      case 'instanceNorm':
        step('instanceNorm', [nhwc(0), asis(1), asis(2)], 'nhwc', { epsilon: n.attrs.epsilon });
        return;
      case 'maxPool':
      case 'avgPool':
        step(n.op, [nhwc(0)], 'nhwc', poolAttrs(n.attrs));
        return;
      case 'maxPoolGrad':
      case 'avgPoolGrad':
        step(n.op, [nhwc(0), nhwc(1)], 'nhwc', poolAttrs(n.attrs));
        return;
      case 'globalAvgPool':
        step('globalAvgPool', [nhwc(0)], 'nhwc');
        return;
      case 'upsampleNearest':
      case 'upsampleNearestGrad':
        step(n.op, [nhwc(0)], 'nhwc', { scale: [...n.attrs.scale] });
        return;
      case 'depthToSpace':
        step('depthToSpace', [nhwc(0)], 'nhwc', { block: n.attrs.block });
        return;
      case 'relu':
      case 'tanh':
      case 'sigmoid':
      case 'sqrt':
      case 'neg': {
        const x = n.inputs[0]!;
        step(n.op, [x], this.layout(x));
        return;
      }
      case 'clip': {
        const x = n.inputs[0]!;
        step('clip', [x], this.layout(x), { min: n.attrs.min, max: n.attrs.max });
        return;
      }
      case 'scale':
      case 'shift': {
        const x = n.inputs[0]!;
        step(n.op, [x], this.layout(x), { value: n.attrs.value });
        return;
      }
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
      case 'reluGrad': {
        const anyNhwc = n.inputs.some((i) => this.rank(i) === 4 && this.layout(i) === 'nhwc');
        const want: Layout = anyNhwc ? 'nhwc' : 'nchw';
        step(n.op, n.inputs.map((i) => this.as(i, want)), want);
        return;
      }
      case 'concat': {
        const all4 = n.inputs.every((i) => this.rank(i) === 4);
        const want: Layout = all4 && n.inputs.some((i) => this.layout(i) === 'nhwc') ? 'nhwc' : 'nchw';
        const axis = want === 'nhwc' ? nhwcAxis(n.attrs.axis, 4) : n.attrs.axis;
        step('concat', n.inputs.map((i) => this.as(i, want)), want, { axis });
        return;
      }
      case 'slice': {
        const x = n.inputs[0]!;
        const lay = this.rank(x) === 4 ? this.layout(x) : 'nchw';
        const axis = lay === 'nhwc' ? nhwcAxis(n.attrs.axis, 4) : n.attrs.axis;
        step('slice', [this.as(x, lay)], lay, { axis, start: n.attrs.start, end: dimAttr(n.attrs.end) });
        return;
      }
      case 'reduceSum':
      case 'reduceMean': {
        const x = n.inputs[0]!;
        const keep = n.attrs.keepDims && this.rank(x) === 4 && this.layout(x) === 'nhwc';
        const axes = keep ? n.attrs.axes.map((a) => nhwcAxis(a, 4)) : [...n.attrs.axes];
        step(n.op, [keep ? x : nchw(0)], keep ? 'nhwc' : 'nchw', { axes, keepDims: n.attrs.keepDims });
        return;
      }
      case 'reshape':
        step('reshape', [nchw(0)], 'nchw', { shape: n.attrs.shape.map(dimAttr) });
        return;
      case 'expand':
        step('expand', [nchw(0)], 'nchw', { shape: n.attrs.shape.map(dimAttr) });
        return;
      case 'transpose':
        step('transpose', [nchw(0)], 'nchw', { perm: [...n.attrs.perm] });
        return;
      case 'matmul':
        step('matmul', [nchw(0), nchw(1)], 'nchw', { transA: n.attrs.transA === true, transB: n.attrs.transB === true });
        return;
      default: {
        const never: never = n;
        throw new Error(`tfjs plan: no lowering for ${(never as Node).op}`);
      }
    }
  }
}

/** Lower a graph (symbolic or specialised) to a tfjs plan. */
export function planGraph(g: Graph): TfjsPlan {
  const p = new Planner(g);
  for (const n of g.nodes) {
    if (n.outputs.length !== 1) throw new Error(`tfjs plan: node ${n.id} (${n.op}) has ${n.outputs.length} outputs; every primitive has one`);
    p.lower(n);
    if (SPATIAL_OUT.has(n.op) && p.shape(n.outputs[0]!).length !== 4) throw new Error(`tfjs plan: ${n.op} output is not 4-D`);
  }
  const outputs = [...g.outputs].map(([name, id]) => ({ name, value: p.as(id, 'nchw'), shape: p.shape(id) }));
  return { inputs: p.inputs, constants: p.constants, prep: p.prep, body: p.body, outputs };
}
