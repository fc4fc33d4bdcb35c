/**
 * The gradient emitter: a thin layer over GraphBuilder that the VJP rules use to
 * append gradient nodes to a specialised (concrete-shape) graph, with the few
 * composite helpers every rule family needs (sum-to-shape for broadcasting,
 * broadcast-to-shape, zero fills, transposing the last two axes).
 */
import type { GraphBuilder } from '../../ir/builder.ts';
import { sameShape } from '../../ir/ops.ts';
import type { NodeOf, OpAttrs, OpKind } from '../../ir/types.ts';

export class GradEmitter {
  /** Stem for the ids of the values emitted for the node being differentiated. */
  stem = 'grad';

  constructor(private readonly b: GraphBuilder) {}

  /** Concrete shape of a value; autodiff runs on specialised graphs only. */
  shape(id: string): number[] {
    return this.b.shape(id).map((d) => {
      if (typeof d !== 'number') throw new Error(`autodiff: value ${id} has a symbolic shape; specialise the graph first`);
      return d;
    });
  }

  op<K extends OpKind>(op: K, inputs: readonly string[], attrs: OpAttrs[K]): string {
    return this.b.add(op, inputs, attrs, {}, this.stem);
  }

  scalar(v: number): string {
    return this.b.scalar(`${this.stem}.const`, v);
  }

  constant(shape: readonly number[], data: Float32Array): string {
    return this.b.constant(`${this.stem}.const`, shape, data);
  }

  /** A zero tensor of the given shape, as expand(0) so no large constant is stored. */
  zeros(shape: readonly number[]): string {
    return this.op('expand', [this.scalar(0)], { shape });
  }

  expandTo(id: string, shape: readonly number[]): string {
    const s = this.shape(id);
    if (sameShape(s, shape)) return id;
    return this.op('expand', [id], { shape });
  }

  reshapeTo(id: string, shape: readonly number[]): string {
    return sameShape(this.shape(id), shape) ? id : this.op('reshape', [id], { shape });
  }

  /**
   * Adjoint of numpy broadcasting: sum `g` (of the broadcast shape) over the axes along which
   * an operand of shape `target` was stretched or prepended, then reshape to `target`.
   */
  sumTo(g: string, target: readonly number[]): string {
    const gs = this.shape(g);
    if (sameShape(gs, target)) return g;
    const lead = gs.length - target.length;
    if (lead < 0) throw new Error(`autodiff: cannot sum [${gs}] to the larger rank [${target}]`);
    const axes: number[] = [];
    gs.forEach((d, i) => {
      if (i < lead || (target[i - lead] === 1 && d !== 1)) axes.push(i);
    });
    const reduced = axes.length ? this.op('reduceSum', [g], { axes, keepDims: true }) : g;
    return this.reshapeTo(reduced, target);
  }

  /** A channel vector [C] viewed as [1, C, 1, 1] for broadcasting against NCHW. */
  channels4(id: string): string {
    const [c] = this.shape(id);
    return this.reshapeTo(id, [1, c!, 1, 1]);
  }
}

/** What a VJP rule receives for one node. */
export interface VjpArgs<K extends OpKind> {
  readonly e: GradEmitter;
  readonly node: NodeOf<K>;
  /** The forward output (reused by rules such as relu, tanh, sigmoid, sqrt, div). */
  readonly y: string;
  /** The gradient of the loss with respect to `y`. */
  readonly dy: string;
  /** Which inputs need a gradient (they depend on a `wrt` value). */
  readonly needs: readonly boolean[];
}

/** Gradients for each input, in input order; undefined where not needed (or structurally zero). */
export type VjpRule<K extends OpKind> = (a: VjpArgs<K>) => readonly (string | undefined)[];
