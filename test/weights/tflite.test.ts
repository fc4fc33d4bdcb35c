/**
 * The TFLite weight reader on a model built here with the flatbuffers Builder (the same table layout as
 * tensorflow/lite/schema/schema.fbs), so every value is known: float32, float16, per-tensor uint8 with a
 * zero point, per-channel int8 along axis 3 (a depthwise filter), an int32 bias, a float16 conv filter read
 * through DEQUANTIZE, and the OHWI / 1HWO -> OIHW layout conversion. The real models are covered by
 * test/conformance/arbitrary.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder } from 'flatbuffers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightError } from '../../src/weights/errors.ts';
import { openTflite } from '../../src/weights/tflite.ts';
import { convActivationRanges, quantizedRange } from '../../src/weights/tflite-activations.ts';
import { parseTflite } from '../../src/weights/tflite-schema.ts';

interface T {
  name: string;
  shape: number[];
  type: number; // schema TensorType
  bytes?: Uint8Array;
  scale?: number[];
  zeroPoint?: number[];
  axis?: number;
}

const f32 = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const i32 = (v: number[]) => new Uint8Array(Int32Array.from(v).buffer);
const i8 = (v: number[]) => new Uint8Array(Int8Array.from(v).buffer);
/** float16 bits of small integers and halves (exact): sign, exponent, 10-bit mantissa. */
function f16(v: number[]): Uint8Array {
  const out = new Uint16Array(v.length);
  v.forEach((x, i) => {
    if (x === 0) return;
    const s = x < 0 ? 0x8000 : 0;
    const a = Math.abs(x);
    const e = Math.floor(Math.log2(a));
    out[i] = s | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
  });
  return new Uint8Array(out.buffer);
}

function ints(b: Builder, v: number[]): number {
  b.startVector(4, v.length, 4);
  for (let i = v.length - 1; i >= 0; i--) b.addInt32(v[i]!);
  return b.endVector();
}

function tables(b: Builder, v: number[]): number {
  b.startVector(4, v.length, 4);
  for (let i = v.length - 1; i >= 0; i--) b.addOffset(v[i]!);
  return b.endVector();
}

/** A one-subgraph model: tensors, and operators as [builtin code, inputs, outputs]. */
function buildModel(tensors: T[], ops: [number, number[], number[]][]): Uint8Array {
  const b = new Builder(1024);
  const buffers = [undefined, ...tensors.map((t) => t.bytes)].map((bytes) => {
    const data = bytes ? b.createByteVector(bytes) : 0;
    b.startObject(3);
    if (data) b.addFieldOffset(0, data, 0);
    return b.endObject();
  });
  const ts = tensors.map((t, i) => {
    let q = 0;
    if (t.scale) {
      const scale = (() => {
        b.startVector(4, t.scale.length, 4);
        for (let k = t.scale.length - 1; k >= 0; k--) b.addFloat32(t.scale[k]!);
        return b.endVector();
      })();
      const zp = (() => {
        const z = t.zeroPoint ?? t.scale.map(() => 0);
        b.startVector(8, z.length, 8);
        for (let k = z.length - 1; k >= 0; k--) b.addInt64(BigInt(z[k]!));
        return b.endVector();
      })();
      b.startObject(7);
      b.addFieldOffset(2, scale, 0);
      b.addFieldOffset(3, zp, 0);
      b.addFieldInt32(6, t.axis ?? 0, 0);
      q = b.endObject();
    }
    const shape = ints(b, t.shape);
    const name = b.createString(t.name);
    b.startObject(5);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, t.type, 0);
    b.addFieldInt32(2, t.bytes ? i + 1 : 0, 0);
    b.addFieldOffset(3, name, 0);
    if (q) b.addFieldOffset(4, q, 0);
    return b.endObject();
  });
  const codes = [...new Set(ops.map((o) => o[0]))];
  const codeTables = codes.map((c) => {
    b.startObject(4);
    b.addFieldInt8(0, Math.min(c, 127), 0);
    b.addFieldInt32(3, c, 0);
    return b.endObject();
  });
  const opTables = ops.map(([code, ins, outs]) => {
    const i = ints(b, ins);
    const o = ints(b, outs);
    b.startObject(3);
    b.addFieldInt32(0, codes.indexOf(code), 0);
    b.addFieldOffset(1, i, 0);
    b.addFieldOffset(2, o, 0);
    return b.endObject();
  });
  const tensorVec = tables(b, ts);
  const opVec = tables(b, opTables);
  b.startObject(5);
  b.addFieldOffset(0, tensorVec, 0);
  b.addFieldOffset(3, opVec, 0);
  const sub = b.endObject();
  const subVec = tables(b, [sub]);
  const codeVec = tables(b, codeTables);
  const bufVec = tables(b, buffers);
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, codeVec, 0);
  b.addFieldOffset(2, subVec, 0);
  b.addFieldOffset(4, bufVec, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array();
}

const CONV = 3;
const DEPTHWISE = 4;
const DEQUANTIZE = 6;
// TensorType
const FLOAT32 = 0;
const FLOAT16 = 1;
const INT32 = 2;
const UINT8 = 3;
const INT8 = 9;

// conv filter OHWI [2, 1, 2, 3]: value = 100 o + 10 (h * 2 + w) + i, stored in O, H, W, I order
const ohwi: number[] = [];
for (let o = 0; o < 2; o++) for (let hw = 0; hw < 2; hw++) for (let i = 0; i < 3; i++) ohwi.push(100 * o + 10 * hw + i);

const TENSORS: T[] = [
  { name: 'x', shape: [1, 4, 4, 3], type: FLOAT32 },
  { name: 'conv/weights', shape: [2, 1, 2, 3], type: FLOAT32, bytes: f32(ohwi) },
  { name: 'conv/y', shape: [1, 4, 3, 2], type: FLOAT32 },
  // depthwise 1HWO [1, 1, 2, 2], per-channel int8 along axis 3: real = scale[o] * q
  { name: 'dw/weights', shape: [1, 1, 2, 2], type: INT8, bytes: i8([1, -2, 3, 4]), scale: [0.5, 0.25], axis: 3 },
  { name: 'dw/y', shape: [1, 4, 3, 2], type: FLOAT32 },
  { name: 'dw/bias', shape: [2], type: INT32, bytes: i32([8, -4]), scale: [0.125, 0.5], axis: 0 },
  { name: 'u8', shape: [3], type: UINT8, bytes: new Uint8Array([0, 128, 255]), scale: [0.5], zeroPoint: [128] },
  // a float16 conv filter reaching CONV_2D through DEQUANTIZE (the f16 model's pattern)
  { name: 'c2/weights', shape: [1, 1, 1, 2], type: FLOAT16, bytes: f16([1.5, -2]) },
  { name: 'c2/weights_dequantize', shape: [1, 1, 1, 2], type: FLOAT32 },
  { name: 'c2/y', shape: [1, 4, 3, 1], type: FLOAT32 },
  { name: 'paddings', shape: [4, 2], type: INT32, bytes: i32([0, 0, 1, 1, 1, 1, 0, 0]) },
];
const OPS: [number, number[], number[]][] = [
  [CONV, [0, 1, -1], [2]],
  [DEPTHWISE, [2, 3, 5], [4]],
  [DEQUANTIZE, [7], [8]],
  [CONV, [4, 8, -1], [9]],
];

describe('openTflite', () => {
  let dir: string;
  let path: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stc-tflite-'));
    path = join(dir, 'model.tflite');
    await writeFile(path, buildModel(TENSORS, OPS));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists the readable constants in stc layouts; skips activations and unquantised integers', async () => {
    const f = await openTflite(path);
    expect(Object.fromEntries(f.entries.map((e) => [e.name, e.shape]))).toEqual({
      'conv/weights': [2, 3, 1, 2], // OHWI [2, 1, 2, 3] -> OIHW
      'dw/weights': [2, 1, 1, 2], // 1HWO [1, 1, 2, 2] -> [O, 1, H, W]
      'dw/bias': [2],
      u8: [3],
      'c2/weights': [1, 2, 1, 1], // through DEQUANTIZE: OHWI [1, 1, 1, 2] -> OIHW
    });
  });

  it('permutes a CONV_2D filter from OHWI to OIHW', async () => {
    const t = await (await openTflite(path)).read('conv/weights');
    expect(t.shape).toEqual([2, 3, 1, 2]);
    const want: number[] = [];
    for (let o = 0; o < 2; o++) for (let i = 0; i < 3; i++) for (let hw = 0; hw < 2; hw++) want.push(100 * o + 10 * hw + i);
    expect([...t.data]).toEqual(want);
  });

  it('dequantises per channel along the file axis, then moves the depthwise filter to [O, 1, H, W]', async () => {
    const t = await (await openTflite(path)).read('dw/weights');
    // file [h][w][o]: (w0: o0 = 1, o1 = -2), (w1: o0 = 3, o1 = 4); scales o0 0.5, o1 0.25
    expect([...t.data]).toEqual([0.5, 1.5, -0.5, 1]);
  });

  it('dequantises an int32 bias per channel and uint8 with a zero point', async () => {
    const f = await openTflite(path);
    expect([...(await f.read('dw/bias')).data]).toEqual([1, -2]);
    expect([...(await f.read('u8')).data]).toEqual([-64, 0, 63.5]);
  });

  it('widens float16 and recognises a filter behind DEQUANTIZE', async () => {
    const t = await (await openTflite(path)).read('c2/weights');
    expect(t.shape).toEqual([1, 2, 1, 1]);
    expect([...t.data]).toEqual([1.5, -2]);
  });

  it('reports a file that is not TFLite, and a missing file, as weight errors', async () => {
    const bad = join(dir, 'bad.tflite');
    await writeFile(bad, new Uint8Array(64));
    await expect(openTflite(bad)).rejects.toThrow(WeightError);
    await expect(openTflite(bad)).rejects.toThrow(/not a TensorFlow Lite file/);
    await expect(openTflite(join(dir, 'none.tflite'))).rejects.toThrow(/does not exist/);
  });
});

// The int8 form of a conv followed by a depthwise conv: int8 activations with per-tensor scales (TFLite's
// quantisation spec), so each range is [scale · (−128 − zp), scale · (127 − zp)]; the input is uint8.
const QTENSORS: T[] = [
  { name: 'x_u8', shape: [1, 4, 4, 3], type: UINT8, scale: [1 / 255], zeroPoint: [0] },
  { name: 'conv/weights', shape: [2, 1, 1, 3], type: INT8, bytes: i8([1, 2, 3, 4, 5, 6]), scale: [0.1, 0.2], axis: 0 },
  { name: 'conv/Relu6', shape: [1, 4, 4, 2], type: INT8, scale: [6 / 255], zeroPoint: [-128] },
  { name: 'dw/weights', shape: [1, 1, 1, 2], type: INT8, bytes: i8([7, 8]), scale: [0.5, 0.25], axis: 3 },
  { name: 'dw/y', shape: [1, 4, 4, 2], type: INT8, scale: [0.5], zeroPoint: [10] },
  { name: 'f/weights', shape: [1, 1, 1, 2], type: FLOAT32, bytes: f32([1, 2]) },
  { name: 'f/y', shape: [1, 4, 4, 1], type: FLOAT32 },
];
const QOPS: [number, number[], number[]][] = [
  [CONV, [0, 1, -1], [2]],
  [DEPTHWISE, [2, 3, -1], [4]],
  [CONV, [4, 5, -1], [6]], // float output: no range
];

describe('convActivationRanges', () => {
  it('gives each quantised conv its input and output range, by filter name', () => {
    const ranges = convActivationRanges(parseTflite(buildModel(QTENSORS, QOPS)));
    expect([...ranges.keys()]).toEqual(['conv/weights', 'dw/weights']);
    const conv = ranges.get('conv/weights')!;
    expect(conv.input.min).toBe(0);
    expect(conv.input.max).toBeCloseTo(1, 6);
    expect(conv.output.min).toBe(0); // a ReLU6 output: [0, 6]
    expect(conv.output.max).toBeCloseTo(6, 5);
    expect(ranges.get('dw/weights')!.input).toEqual(conv.output);
    expect(ranges.get('dw/weights')!.output).toEqual({ min: 0.5 * (-128 - 10), max: 0.5 * (127 - 10) });
  });

  it('has no range for a float tensor or a per-channel one', () => {
    const [x, w, , , , , fy] = parseTflite(buildModel(QTENSORS, QOPS)).tensors;
    expect(quantizedRange(x!)).toBeDefined();
    expect(quantizedRange(w!)).toBeUndefined(); // per-channel (a filter)
    expect(quantizedRange(fy!)).toBeUndefined();
  });
});
