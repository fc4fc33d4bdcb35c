/**
 * TensorFlow Lite models (.tflite) as weight files: every constant tensor of the first subgraph, by its
 * tensor name, as float32.
 *
 * - float32 is read as is; float16 is widened; int8, uint8, int16 and int32 tensors that carry quantisation
 *   parameters are dequantised, real = scale * (q - zero_point), per tensor or per channel along the
 *   tensor's quantized_dimension (TFLite's quantisation spec; int32 biases have zero point 0 and
 *   scale = input scale * weight scale). Unquantised integer tensors (shapes, paddings) are not listed.
 * - Kernels are returned in stc's layout, so a spec binds them without a LAYOUT: a tensor read as the filter
 *   of CONV_2D (TFLite OHWI) becomes OIHW, the filter of DEPTHWISE_CONV_2D (1HWO, channel multiplier
 *   folded into O) becomes [O, 1, H, W] (stc's grouped-conv OIHW with groups = input channels). A float16
 *   or int8 filter that reaches the conv through a DEQUANTIZE op is recognised the same way.
 */
import { readFile } from 'node:fs/promises';
import type { HostTensor } from '../compiler/ir/types.ts';
import { WeightError } from './errors.ts';
import { permute4 } from './layout.ts';
import { float16Value } from '../util/float16.ts';
import type { TensorEntry, TensorFile } from './tensor-file.ts';
import { BuiltinOp, TensorType, parseTflite, type TfliteModel, type TfliteTensor } from './tflite-schema.ts';

/** How a constant is used: the filter of a conv (OHWI) or of a depthwise conv (1HWO), or anything else. */
type Role = 'conv' | 'depthwise' | 'other';

/** Output axis i of the stc-layout kernel is file axis PERM[role][i]. */
const PERM: Record<Exclude<Role, 'other'>, readonly number[]> = {
  conv: [0, 3, 1, 2], // OHWI -> OIHW
  depthwise: [3, 0, 1, 2], // 1HWO -> O1HW
};

const BYTES: Partial<Record<number, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.FLOAT16]: 2,
  [TensorType.INT8]: 1,
  [TensorType.UINT8]: 1,
  [TensorType.INT16]: 2,
  [TensorType.INT32]: 4,
};

/** Kernel roles by tensor index, following DEQUANTIZE ops back to the stored constant. */
function kernelRoles(m: TfliteModel): Map<number, Role> {
  const roles = new Map<number, Role>();
  for (const op of m.operators) {
    if (op.builtin === BuiltinOp.CONV_2D && op.inputs[1] !== undefined) roles.set(op.inputs[1], 'conv');
    if (op.builtin === BuiltinOp.DEPTHWISE_CONV_2D && op.inputs[1] !== undefined) roles.set(op.inputs[1], 'depthwise');
  }
  for (const op of m.operators) {
    const role = op.builtin === BuiltinOp.DEQUANTIZE ? roles.get(op.outputs[0] ?? -1) : undefined;
    if (role && op.inputs[0] !== undefined) roles.set(op.inputs[0], role);
  }
  return roles;
}

/** Whether a tensor is a constant this reader turns into float32. */
function readable(m: TfliteModel, t: TfliteTensor): boolean {
  if (m.buffer(t.buffer).length === 0 || BYTES[t.type] === undefined) return false;
  return t.type === TensorType.FLOAT32 || t.type === TensorType.FLOAT16 || t.quantization !== undefined;
}

/** The raw values of a constant as float64 numbers, dequantised (see the module comment). */
function decode(m: TfliteModel, t: TfliteTensor): Float32Array {
  const bytes = m.buffer(t.buffer);
  const n = t.shape.reduce((a, b) => a * b, 1);
  const size = BYTES[t.type]!;
  if (bytes.length < n * size) throw new Error(`tensor ${t.name}: ${bytes.length} bytes for ${n} values of ${size} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = (i: number): number => {
    switch (t.type) {
      case TensorType.FLOAT32:
        return view.getFloat32(4 * i, true);
      case TensorType.FLOAT16:
        return float16Value(view.getUint16(2 * i, true));
      case TensorType.INT8:
        return view.getInt8(i);
      case TensorType.UINT8:
        return view.getUint8(i);
      case TensorType.INT16:
        return view.getInt16(2 * i, true);
      default:
        return view.getInt32(4 * i, true);
    }
  };
  const out = new Float32Array(n);
  const q = t.type === TensorType.FLOAT32 || t.type === TensorType.FLOAT16 ? undefined : t.quantization;
  if (!q) {
    for (let i = 0; i < n; i++) out[i] = raw(i);
    return out;
  }
  const perChannel = q.scale.length > 1;
  const axis = perChannel ? q.axis : 0;
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = t.shape[axis] ?? 1;
  if (perChannel && q.scale.length !== channels)
    throw new Error(`tensor ${t.name}: ${q.scale.length} scales for ${channels} channels on axis ${axis}`);
  for (let i = 0; i < n; i++) {
    const c = perChannel ? Math.floor(i / inner) % channels : 0;
    out[i] = q.scale[c]! * (raw(i) - (q.zeroPoint[c] ?? 0));
  }
  return out;
}

function stcShape(shape: readonly number[], role: Role): number[] {
  return role === 'other' || shape.length !== 4 ? [...shape] : PERM[role].map((p) => shape[p]!);
}

/** A .tflite file parsed, with a missing file or a malformed one as a WeightError. */
export async function readTfliteModel(path: string): Promise<TfliteModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    throw new WeightError('missing_file', `weights file ${path} does not exist or cannot be read`);
  }
  try {
    return parseTflite(bytes);
  } catch (e) {
    throw new WeightError('bad_format', `weights file ${path}: ${(e as Error).message}`);
  }
}

export async function openTflite(path: string): Promise<TensorFile> {
  const model = await readTfliteModel(path);
  const roles = kernelRoles(model);
  const byName = new Map<string, TfliteTensor>();
  for (const t of model.tensors) if (readable(model, t) && !byName.has(t.name)) byName.set(t.name, t);
  const roleOf = (t: TfliteTensor): Role => roles.get(t.index) ?? 'other';
  const entries: TensorEntry[] = [...byName.values()].map((t) => ({ name: t.name, shape: stcShape(t.shape, roleOf(t)) }));
  return {
    path,
    entries,
    async read(name): Promise<HostTensor> {
      const t = byName.get(name);
      if (!t) throw new WeightError('missing_tensor', `weights file ${path} has no constant tensor ${name}`);
      let data: Float32Array;
      try {
        data = decode(model, t);
      } catch (e) {
        throw new WeightError('bad_format', `weights file ${path}: ${(e as Error).message}`);
      }
      const role = roleOf(t);
      const host: HostTensor = { shape: [...t.shape], data };
      return role === 'other' || t.shape.length !== 4 ? host : permute4(host, PERM[role]);
    },
  };
}
