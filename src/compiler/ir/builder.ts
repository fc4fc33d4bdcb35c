/**
 * Imperative construction of IR graphs with shape inference at every step.
 * Used by the DSL lowering, by autodiff (which appends gradient nodes), and by tests.
 */
import type { Dim } from './dim.ts';
import { inferShapes } from './ops.ts';
import type { DType, Graph, Node, OpAttrs, OpKind, ParamInit, SourceSpan, Value } from './types.ts';

export interface NodeOptions {
  readonly layer?: string;
  readonly span?: SourceSpan;
}

export class GraphBuilder {
  private readonly values = new Map<string, Value>();
  private readonly nodes: Node[] = [];
  private readonly inputs: string[] = [];
  private readonly outputs = new Map<string, string>();
  private readonly taps = new Map<string, string>();
  private counter = 0;

  /** Start from an existing graph (its values and nodes are shared, not copied). */
  static from(g: Graph): GraphBuilder {
    const b = new GraphBuilder();
    for (const [k, v] of g.values) b.values.set(k, v);
    b.nodes.push(...g.nodes);
    b.inputs.push(...g.inputs);
    for (const [k, v] of g.outputs) b.outputs.set(k, v);
    for (const [k, v] of g.taps) b.taps.set(k, v);
    b.counter = g.nodes.length + g.values.size;
    return b;
  }

  value(id: string): Value {
    const v = this.values.get(id);
    if (!v) throw new Error(`GraphBuilder: unknown value ${id}`);
    return v;
  }

  shape(id: string): readonly Dim[] {
    return this.value(id).shape;
  }

  has(id: string): boolean {
    return this.values.has(id);
  }

  /** A fresh value id with the given stem (`conv1_1`, `conv1_1.weight`). */
  fresh(stem: string): string {
    if (!this.values.has(stem)) return stem;
    let id: string;
    do id = `${stem}_${++this.counter}`;
    while (this.values.has(id));
    return id;
  }

  /** A graph input; `symmetric`: every tensor fed is symmetric in its last two axes (Value.symmetric). */
  input(name: string, shape: readonly Dim[], span?: SourceSpan, symmetric = false): string {
    const [rows, cols] = shape.slice(-2);
    if (symmetric && (shape.length < 2 || (typeof rows === 'number' && typeof cols === 'number' && rows !== cols)))
      throw new Error(`GraphBuilder: symmetric input ${name} has shape [${shape.join(', ')}], not square matrices`);
    const id = this.fresh(name);
    this.values.set(id, { id, shape, dtype: 'float32', kind: 'input', ...(span && { span }), ...(symmetric && { symmetric }) });
    this.inputs.push(id);
    return id;
  }

  param(name: string, shape: readonly number[], init: ParamInit, trainable = true, span?: SourceSpan): string {
    if (this.values.has(name)) throw new Error(`GraphBuilder: duplicate parameter ${name}`);
    this.values.set(name, { id: name, shape, dtype: 'float32', kind: 'param', init, trainable, ...(span && { span }) });
    return name;
  }

  constant(name: string, shape: readonly number[], data: Float32Array, dtype: DType = 'float32'): string {
    const id = this.fresh(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`GraphBuilder: constant ${name} has ${data.length} values for shape [${shape}]`);
    this.values.set(id, { id, shape, dtype, kind: 'const', data });
    return id;
  }

  scalar(name: string, v: number): string {
    return this.constant(name, [], Float32Array.of(v));
  }

  /** Append a node; returns its output value ids. Throws ShapeError on incompatible inputs. */
  addMulti<K extends OpKind>(op: K, inputs: readonly string[], attrs: OpAttrs[K], opts: NodeOptions = {}, outStem?: string): string[] {
    const shapes = inputs.map((i) => this.shape(i));
    const outShapes = inferShapes(op, shapes, attrs);
    const stem = outStem ?? opts.layer ?? op;
    const outputs = outShapes.map((s) => {
      const id = this.fresh(stem);
      this.values.set(id, { id, shape: s, dtype: 'float32', kind: 'node' });
      return id;
    });
    const node = {
      id: `n${this.nodes.length}_${stem}`,
      op,
      inputs: [...inputs],
      outputs,
      attrs,
      ...(opts.layer !== undefined && { layer: opts.layer }),
      ...(opts.span && { span: opts.span }),
    } as Node;
    this.nodes.push(node);
    return outputs;
  }

  add<K extends OpKind>(op: K, inputs: readonly string[], attrs: OpAttrs[K], opts: NodeOptions = {}, outStem?: string): string {
    return this.addMulti(op, inputs, attrs, opts, outStem)[0]!;
  }

  tap(name: string, value: string): void {
    this.taps.set(name, value);
  }

  output(name: string, value: string): void {
    this.outputs.set(name, value);
  }

  build(): Graph {
    return {
      values: new Map(this.values),
      nodes: [...this.nodes],
      inputs: [...this.inputs],
      outputs: new Map(this.outputs),
      taps: new Map(this.taps),
    };
  }
}
