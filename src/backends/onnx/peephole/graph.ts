/**
 * A mutable view of an emitted ONNX graph for the GPU's peephole rewrites: the node list (kept in topological
 * order: a replacement takes the place of the node it replaces), who produces and who reads each tensor, the
 * constant initializers' values, and the shapes of the tensors that were IR values.
 */
import { type AttributeProto, type ModelProto, type NodeProto, type TensorProto, attribute, floatTensor, onnx, tensorNumbers } from '../proto.ts';
import { liveNodes } from '../dead-nodes.ts';

/** A tensor's shape where it is known (the IR values the emitter kept the ids of), else undefined. */
export type ShapeOf = (name: string) => readonly number[] | undefined;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

export class ProtoGraph {
  nodes: NodeProto[];
  private readonly inits: Map<string, TensorProto>;
  private readonly newInits: TensorProto[] = [];
  readonly outputs: ReadonlySet<string>;
  private producers = new Map<string, NodeProto>();
  private readers = new Map<string, NodeProto[]>();
  private counter = 0;
  private readonly shapes = new Map<string, readonly number[]>();

  /**
   * `symmetricInputs`: graph inputs whose every fed tensor is symmetric in its last two axes (the IR's
   * Value.symmetric: Gram targets); rewrites may rely on it.
   */
  constructor(
    private readonly model: ModelProto,
    readonly shapeOf: ShapeOf,
    private readonly symmetricInputs: ReadonlySet<string> = new Set(),
  ) {
    const g = model.graph ?? {};
    // Copies: rewrites reassign nodes' inputs and outputs, and the caller's model stays as it was.
    this.nodes = (g.node ?? []).map((n) => ({ ...n, input: [...(n.input ?? [])], output: [...(n.output ?? [])] }));
    this.inits = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
    this.outputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
    this.reindex();
  }

  /** Rebuild producer and reader maps (after the node list changed). */
  reindex(): void {
    this.producers = new Map();
    this.readers = new Map();
    for (const n of this.nodes) {
      for (const o of n.output ?? []) this.producers.set(o, n);
      for (const i of n.input ?? []) if (i) this.readers.set(i, [...(this.readers.get(i) ?? []), n]);
    }
  }

  producer(name: string, opType?: string): NodeProto | undefined {
    const n = this.producers.get(name);
    return n && (opType === undefined || n.opType === opType) ? n : undefined;
  }

  consumers(name: string): readonly NodeProto[] {
    return this.readers.get(name) ?? [];
  }

  /** Whether `name` is read by exactly one node input and is not a graph output (so its producer can be folded away). */
  singleUse(name: string): boolean {
    const r = this.consumers(name);
    return !this.outputs.has(name) && r.length === 1 && r[0]!.input!.filter((i) => i === name).length === 1;
  }

  /** Whether `name` is a graph input marked symmetric (never a value a node computes). */
  symmetricInput(name: string): boolean {
    return this.symmetricInputs.has(name) && !this.producers.has(name) && !this.inits.has(name);
  }

  /** The value of a one-element float32 initializer, or undefined. */
  scalar(name: string): number | undefined {
    const t = this.inits.get(name);
    if (!t || t.dataType !== FLOAT || (t.dims ?? []).some((d) => Number(d) !== 1)) return undefined;
    return tensorNumbers(t)?.[0];
  }

  /** The values of an int64 initializer, or undefined. */
  ints(name: string): number[] | undefined {
    const t = this.inits.get(name);
    return t?.dataType === INT64 ? tensorNumbers(t) : undefined;
  }

  /** An initializer's shape, or the known shape of a tensor (a rewrite's override first, then the IR's). */
  shape(name: string): readonly number[] | undefined {
    const t = this.inits.get(name);
    return t ? (t.dims ?? []).map(Number) : (this.shapes.get(name) ?? this.shapeOf(name));
  }

  /** Record the shape a rewrite gave a tensor (one that differs from its IR value's). */
  setShape(name: string, shape: readonly number[]): void {
    this.shapes.set(name, shape);
  }

  /** A new name, unused by any tensor of the graph. */
  fresh(stem: string): string {
    let name: string;
    do name = `peephole_${stem}__${++this.counter}`;
    while (this.producers.has(name) || this.inits.has(name) || this.readers.has(name) || this.outputs.has(name));
    return name;
  }

  /** Add an initializer (its name must be fresh). */
  addInitializer(t: TensorProto): void {
    this.inits.set(t.name ?? '', t);
    this.newInits.push(t);
  }

  /** The values of a float32 initializer, or undefined. */
  floats(name: string): number[] | undefined {
    const t = this.inits.get(name);
    return t?.dataType === FLOAT ? tensorNumbers(t) : undefined;
  }

  /** A new rank-0 float32 initializer holding `v`. */
  addScalar(v: number): string {
    const name = this.fresh('const_f');
    const t = floatTensor(name, [], Float32Array.of(v));
    this.inits.set(name, t);
    this.newInits.push(t);
    return name;
  }

  /** A new 1-D int64 initializer. */
  addInts(values: readonly number[]): string {
    const name = this.fresh('const_i64');
    const t: TensorProto = { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) };
    this.inits.set(name, t);
    this.newInits.push(t);
    return name;
  }

  /** Put `replacement` (zero or more nodes) in the place of `old` in the node list. */
  replaceNode(old: NodeProto, ...replacement: NodeProto[]): void {
    const i = this.nodes.indexOf(old);
    if (i < 0) throw new Error('peephole: replacing a node that is not in the graph');
    this.nodes.splice(i, 1, ...replacement);
    this.reindex();
  }

  /**
   * Make every reader of `from` read `to` instead. A graph output keeps its name: then `to`'s producer is
   * renamed to write `from` (the caller checks canRedirect first).
   */
  redirect(from: string, to: string): void {
    if (this.outputs.has(from)) {
      const before = this.producers.get(from);
      const after = this.producers.get(to)!;
      if (before) before.output = before.output!.map((o) => (o === from ? this.fresh('dead') : o));
      after.output = after.output!.map((o) => (o === to ? from : o));
      for (const n of this.nodes) n.input = n.input!.map((i) => (i === to ? from : i));
    } else for (const n of this.consumers(from)) n.input = n.input!.map((i) => (i === from ? to : i));
    this.reindex();
  }

  /** Whether redirect(from, to) can keep the graph's outputs: `from` is no output, or `to` is a plain intermediate. */
  canRedirect(from: string, to: string): boolean {
    if (!this.outputs.has(from)) return true;
    return this.producers.has(to) && !this.outputs.has(to) && !this.inits.has(to);
  }

  /** Drop the nodes no graph output depends on (liveNodes); returns whether any went. */
  removeDead(): boolean {
    const live = liveNodes(this.nodes, this.outputs);
    if (live.length === this.nodes.length) return false;
    this.nodes = live;
    this.reindex();
    return true;
  }

  /** The model with the rewritten node list and the initializers still read. */
  toModel(): ModelProto {
    const g = this.model.graph ?? {};
    const read = new Set(this.nodes.flatMap((n) => n.input ?? []));
    const initializer = [...(g.initializer ?? []), ...this.newInits].filter((t) => read.has(t.name ?? '') || this.outputs.has(t.name ?? ''));
    return { ...this.model, graph: { ...g, node: this.nodes, initializer } };
  }
}

/** A new node, named as the emitter names them: `<its first output>/<op type>` (profiles attribute time by name). */
export function newNode(g: ProtoGraph, opType: string, input: readonly string[], output: readonly string[], attribute: AttributeProto[] = []): NodeProto {
  return { opType, input: [...input], output: [...output], name: g.fresh(`${output[0] ?? 'node'}/${opType}`), attribute };
}

/** The ConstantOfShape writing `name` when it fills with zeros (the buffer lower-grad.ts scatters a pool's gradient into), else undefined. */
export function zeroFill(g: ProtoGraph, name: string): NodeProto | undefined {
  const fill = g.producer(name, 'ConstantOfShape');
  const value = fill && attribute(fill, 'value')?.t;
  return value && tensorNumbers(value)?.every((v) => v === 0) ? fill : undefined;
}
