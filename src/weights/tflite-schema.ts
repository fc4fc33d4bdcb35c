/**
 * Hand-written accessors for the few tables of the TensorFlow Lite flatbuffer schema that a weight reader
 * needs (tensorflow/lite/schema/schema.fbs): Model.{operator_codes, subgraphs, buffers}, SubGraph.{tensors,
 * operators}, Tensor.{shape, type, buffer, name, quantization}, QuantizationParameters.{scale, zero_point,
 * quantized_dimension}, Buffer.{data, offset, size}, Operator.{opcode_index, inputs, outputs} and
 * OperatorCode.{deprecated_builtin_code, builtin_code}. A field's vtable slot is 4 + 2 * its index in the
 * schema's table declaration.
 */
import { ByteBuffer } from 'flatbuffers';

/** schema.fbs `enum TensorType`. */
export const TensorType = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, INT16: 7, INT8: 9, FLOAT64: 10 } as const;

/** The schema.fbs `BuiltinOperator` codes this reader looks at. */
export const BuiltinOp = { CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6 } as const;

export interface TfliteQuantization {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  /** The axis that `scale`/`zeroPoint` index when there is more than one (per-channel quantisation). */
  readonly axis: number;
}

export interface TfliteTensor {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: number;
  readonly buffer: number;
  readonly quantization?: TfliteQuantization;
}

export interface TfliteOperator {
  readonly builtin: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

export interface TfliteModel {
  readonly tensors: readonly TfliteTensor[];
  readonly operators: readonly TfliteOperator[];
  /** The constant bytes of buffer i (empty for activations). */
  buffer(i: number): Uint8Array;
}

/** Read access to one table at `pos`. */
class Table {
  constructor(
    readonly bb: ByteBuffer,
    readonly pos: number,
  ) {}
  private slot(field: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * field);
  }
  has(field: number): boolean {
    return this.slot(field) !== 0;
  }
  i8(field: number, dflt = 0): number {
    const o = this.slot(field);
    return o ? this.bb.readInt8(this.pos + o) : dflt;
  }
  u32(field: number, dflt = 0): number {
    const o = this.slot(field);
    return o ? this.bb.readUint32(this.pos + o) : dflt;
  }
  i32(field: number, dflt = 0): number {
    const o = this.slot(field);
    return o ? this.bb.readInt32(this.pos + o) : dflt;
  }
  u64(field: number): number {
    const o = this.slot(field);
    return o ? Number(this.bb.readUint64(this.pos + o)) : 0;
  }
  str(field: number): string {
    const o = this.slot(field);
    return o ? (this.bb.__string(this.pos + o) as string) : '';
  }
  table(field: number): Table | undefined {
    const o = this.slot(field);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : undefined;
  }
  /** [start, length] of a vector field, or undefined when absent. */
  private vec(field: number): [number, number] | undefined {
    const o = this.slot(field);
    return o ? [this.bb.__vector(this.pos + o), this.bb.__vector_len(this.pos + o)] : undefined;
  }
  tables(field: number): Table[] {
    const v = this.vec(field);
    if (!v) return [];
    return Array.from({ length: v[1] }, (_, i) => new Table(this.bb, this.bb.__indirect(v[0] + 4 * i)));
  }
  ints(field: number): number[] {
    const v = this.vec(field);
    return v ? Array.from({ length: v[1] }, (_, i) => this.bb.readInt32(v[0] + 4 * i)) : [];
  }
  floats(field: number): number[] {
    const v = this.vec(field);
    return v ? Array.from({ length: v[1] }, (_, i) => this.bb.readFloat32(v[0] + 4 * i)) : [];
  }
  longs(field: number): number[] {
    const v = this.vec(field);
    return v ? Array.from({ length: v[1] }, (_, i) => Number(this.bb.readInt64(v[0] + 8 * i))) : [];
  }
  bytes(field: number): Uint8Array {
    const v = this.vec(field);
    return v ? this.bb.bytes().subarray(v[0], v[0] + v[1]) : new Uint8Array(0);
  }
}

function quantization(t: Table | undefined): TfliteQuantization | undefined {
  if (!t) return undefined;
  const scale = t.floats(2);
  if (scale.length === 0) return undefined;
  const zeroPoint = t.longs(3);
  return { scale, zeroPoint: zeroPoint.length ? zeroPoint : scale.map(() => 0), axis: t.i32(6) };
}

/**
 * Parse a .tflite file's first subgraph. Throws a plain Error on a file that is not a TFLite flatbuffer;
 * the caller turns it into a user error naming the file.
 */
export function parseTflite(bytes: Uint8Array): TfliteModel {
  const bb = new ByteBuffer(bytes);
  if (bytes.length < 8 || bb.getBufferIdentifier() !== 'TFL3') throw new Error('not a TensorFlow Lite file (no TFL3 identifier)');
  const model = new Table(bb, bb.readInt32(0));
  const codes = model.tables(1).map((c) => Math.max(c.i8(0), c.i32(3)));
  const sub = model.tables(2)[0];
  if (!sub) throw new Error('the model has no subgraph');
  const tensors = sub.tables(0).map(
    (t, index): TfliteTensor => {
      const q = quantization(t.table(4));
      return { index, name: t.str(3), shape: t.ints(0), type: t.i8(1), buffer: t.u32(2), ...(q && { quantization: q }) };
    },
  );
  const operators = sub.tables(3).map((o): TfliteOperator => ({ builtin: codes[o.u32(0)] ?? -1, inputs: o.ints(1), outputs: o.ints(2) }));
  const buffers = model.tables(4);
  return {
    tensors,
    operators,
    buffer(i) {
      const b = buffers[i];
      if (!b) return new Uint8Array(0);
      const inline = b.bytes(0);
      if (inline.length) return inline;
      // Models over 2 GB keep buffers after the flatbuffer, addressed from the start of the file.
      const offset = b.u64(1);
      const size = b.u64(2);
      return offset > 1 && size > 0 ? bytes.subarray(offset, offset + size) : inline;
    },
  };
}
