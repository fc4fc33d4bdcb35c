/**
 * ONNX `.onnx` initializers (onnx.proto: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto), e.g.
 * the ONNX model zoo's VGG-19. Field numbers used:
 *   ModelProto { graph = 7 }   GraphProto { initializer = 5 }
 *   TensorProto { dims = 1; data_type = 2; float_data = 4 (packed); double_data = 10 (packed);
 *                 name = 8; raw_data = 9 (little-endian); data_location = 14 (1 = EXTERNAL) }
 * data_type: 1 FLOAT, 10 FLOAT16, 11 DOUBLE, 16 BFLOAT16. Other types (int64 shape constants) are
 * listed as unavailable. External data is not read.
 */
import { ByteSource, type DType, conversionNote, readFloats } from '../byte-source.ts';
import { WeightError } from '../errors.ts';
import { WIRE, WireCursor } from '../protowire.ts';
import type { TensorEntry, TensorFile } from '../tensor-file.ts';

const DTYPES: Readonly<Record<number, DType>> = { 1: 'f32', 10: 'f16', 11: 'f64', 16: 'bf16' };

interface Init {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: DType | undefined;
  readonly type: number;
  readonly offset: number;
  readonly bytes: number;
  readonly external: boolean;
}

function scanTensor(c: WireCursor, index: number): Init {
  let name = `initializer${index}`;
  const shape: number[] = [];
  let type = 0;
  let offset = 0;
  let bytes = 0;
  let external = false;
  while (!c.done()) {
    const f = c.next();
    if (f.field === 1) shape.push(...c.varints(f));
    else if (f.field === 2 && f.wire === WIRE.varint) type = f.value;
    else if (f.field === 8 && f.wire === WIRE.bytes) name = c.text(f);
    else if ((f.field === 9 || f.field === 4 || f.field === 10) && f.wire === WIRE.bytes) [offset, bytes] = [f.start, f.value];
    else if (f.field === 14 && f.wire === WIRE.varint) external = f.value === 1;
  }
  return { name, shape, dtype: DTYPES[type], type, offset, bytes, external };
}

export async function openOnnx(path: string): Promise<TensorFile> {
  const src = ByteSource.open(path);
  try {
    if (src.size === 0) throw new WeightError('truncated', `weights file ${path} is empty (0 bytes)`);
    const model = new WireCursor(src, 0, src.size, 'the ModelProto');
    const inits: Init[] = [];
    let graphs = 0;
    while (!model.done()) {
      const f = model.next();
      if (f.field !== 7 || f.wire !== WIRE.bytes) continue;
      graphs++;
      const g = model.sub(f, 'the graph');
      while (!g.done()) {
        const h = g.next();
        if (h.field === 5 && h.wire === WIRE.bytes) inits.push(scanTensor(g.sub(h, `initializer ${inits.length}`), inits.length));
      }
    }
    if (graphs === 0) throw new WeightError('bad_format', `${path} is not an ONNX model: it has no graph`);
    return tensorFile(src, inits);
  } catch (e) {
    src.close();
    throw e;
  }
}

function why(t: Init): string | undefined {
  if (t.external) return 'its data is stored outside the .onnx file (external data), which stc does not read';
  if (!t.dtype) return `ONNX data type ${t.type} is not a float type`;
  return undefined;
}

function tensorFile(src: ByteSource, inits: readonly Init[]): TensorFile {
  const byName = new Map(inits.map((t) => [t.name, t]));
  const entries: TensorEntry[] = inits.map((t) => {
    const unavailable = why(t);
    const note = t.dtype && conversionNote(t.dtype);
    return { name: t.name, shape: t.shape, ...(unavailable && { unavailable }), ...(note && { note }) };
  });
  return {
    path: src.path,
    format: 'onnx',
    entries,
    read: async (name) => {
      const t = byName.get(name);
      if (!t) throw new WeightError('missing_tensor', `weights file ${src.path} has no tensor ${name}`);
      const u = why(t);
      if (u) throw new WeightError('bad_format', `weights file ${src.path}: tensor ${name}: ${u}`);
      const count = t.shape.reduce((a, b) => a * b, 1);
      // float_data holds FLOAT16/BFLOAT16 values widened to int32 varints; only raw_data is read for those.
      const width = { f32: 4, f16: 2, f64: 8, bf16: 2 }[t.dtype!];
      if (t.bytes !== count * width)
        throw new WeightError('truncated', `weights file ${src.path}: tensor ${name} has ${t.bytes} data bytes, shape [${t.shape.join(', ')}] needs ${count * width}`);
      return { shape: t.shape, data: readFloats(src, t.offset, count, t.dtype!, `tensor ${name}`) };
    },
    close: () => src.close(),
  };
}
