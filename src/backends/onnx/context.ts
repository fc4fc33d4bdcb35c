/**
 * The mutable state of one ONNX emission: the node list, initializers, fresh
 * names, cached constants, and the materialisation of symbolic dimensions
 * (`H`, `ceil(H/2)`) as runtime int64 tensors read from the graph inputs' shapes.
 */
import { type Dim, dimToString } from '../../compiler/ir/dim.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { type AttrValue, type NodeProto, type TensorProto, floatTensor, int64Tensor, node } from './proto.ts';

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** Lowering choices fixed for one emission (see EmitOptions). */
export interface LoweringChoices {
  readonly maxPoolGrad: 'scatter' | 'window' | 'tiled';
  readonly reluGrad: 'mul' | 'where';
}

export class EmitContext {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private readonly dimCache = new Map<string, string>();
  private counter = 0;
  /**
   * The IR value whose lowering is being emitted: nodes are named `<scope>/<OpType>__<n>`, so a profile
   * (bench/profile.ts --detail) names the IR value each ONNX node came from.
   */
  scope = '';
  /** Size variable name -> [graph input id, axis] where it can be read at run time. */
  private readonly varSources = new Map<string, [string, number]>();

  constructor(
    readonly graph: Graph,
    readonly choices: LoweringChoices = { maxPoolGrad: 'scatter', reluGrad: 'mul' },
  ) {
    for (const id of graph.values.keys()) this.used.add(id);
    for (const name of graph.outputs.keys()) this.used.add(name);
    for (const id of graph.inputs) {
      graph.values.get(id)!.shape.forEach((d, axis) => {
        if (typeof d !== 'number' && d.kind === 'var' && !this.varSources.has(d.name)) this.varSources.set(d.name, [id, axis]);
      });
    }
  }

  /** A name no IR value, output or earlier emitted tensor uses. */
  fresh(stem: string): string {
    let name: string;
    do name = `${stem}__${++this.counter}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  /** Emit a node with fresh output names; returns them. */
  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, nOut = 1, stem = opType): string[] {
    const outs = Array.from({ length: nOut }, () => this.fresh(stem));
    this.nodes.push(node(opType, inputs, outs, this.nodeName(stem), attrs));
    return outs;
  }

  /** Emit a single-output node with fresh output name. */
  op1(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, stem = opType): string {
    return this.op(opType, inputs, attrs, 1, stem)[0]!;
  }

  /** Emit a node writing to given output names (the IR's own value ids). */
  opTo(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}): void {
    this.nodes.push(node(opType, inputs, outputs, this.nodeName(opType), attrs));
  }

  private nodeName(stem: string): string {
    return this.fresh(this.scope ? `${this.scope}/${stem}` : `node_${stem}`);
  }

  addInitializer(t: TensorProto): void {
    this.initializers.push(t);
  }

  /** A float32 constant initializer (not cached). */
  constF(stem: string, dims: readonly number[], data: Float32Array): string {
    const name = this.fresh(stem);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** A float32 scalar constant, shared between uses. */
  scalarF(v: number): string {
    const key = `f:${Object.is(v, -0) ? '-0' : String(v)}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.constF('const_f', [], Float32Array.of(v));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A 1-D int64 constant, shared between uses. */
  constI64(values: readonly (number | bigint)[]): string {
    return this.constI64Tensor([values.length], values);
  }

  /** An int64 constant of the given shape, shared between uses. */
  constI64Tensor(dims: readonly number[], values: readonly (number | bigint)[]): string {
    const key = `i:${dims.length === 1 ? '' : `[${dims.join(',')}]`}${values.join(',')}`;
    let name = this.constCache.get(key);
    if (!name) {
      name = this.fresh('const_i64');
      this.initializers.push(int64Tensor(name, dims, values));
      this.constCache.set(key, name);
    }
    return name;
  }

  /** A 1-element int64 tensor holding a dimension's value at run time. */
  dimTensor(d: Dim): string {
    if (typeof d === 'number') return this.constI64([d]);
    const key = dimToString(d);
    const cached = this.dimCache.get(key);
    if (cached) return cached;
    let out: string;
    switch (d.kind) {
      case 'var': {
        const src = this.varSources.get(d.name);
        if (!src) throw new Error(`ONNX emitter: size variable ${d.name} is not a dimension of any graph input`);
        out = this.op1('Shape', [src[0]], { start: src[1], end: src[1] + 1 }, `dim_${d.name}`);
        break;
      }
      case 'add':
        out = this.op1('Add', [this.dimTensor(d.a), this.constI64([d.c])]);
        break;
      case 'sum':
        out = this.op1('Add', [this.dimTensor(d.a), this.dimTensor(d.b)]);
        break;
      case 'prod':
        out = this.op1('Mul', [this.dimTensor(d.a), this.dimTensor(d.b)]);
        break;
      case 'mul':
        out = this.op1('Mul', [this.dimTensor(d.a), this.constI64([d.k])]);
        break;
      case 'floordiv': // dimensions are non-negative, so truncating int division is floor
        out = this.op1('Div', [this.dimTensor(d.a), this.constI64([d.k])]);
        break;
      case 'ceildiv':
        out = this.op1('Div', [this.op1('Add', [this.dimTensor(d.a), this.constI64([d.k - 1])]), this.constI64([d.k])]);
        break;
    }
    this.dimCache.set(key, out);
    return out;
  }

  /** A 1-D int64 tensor of dimensions: a constant when all are concrete, else built at run time. */
  dimsTensor(dims: readonly Dim[]): string {
    if (dims.every((d): d is number => typeof d === 'number')) return this.constI64(dims);
    return this.op1('Concat', dims.map((d) => this.dimTensor(d)), { axis: 0 });
  }
}
