/**
 * Caffe `.caffemodel` (a binary NetParameter, caffe.proto: https://github.com/BVLC/caffe/blob/master/src/caffe/proto/caffe.proto).
 * Field numbers used, the subset stc needs:
 *   NetParameter { layers = 2 (V1LayerParameter, legacy); layer = 100 (LayerParameter) }
 *   LayerParameter { name = 1; blobs = 7 }     V1LayerParameter { name = 4; blobs = 6 }
 *   BlobProto { num = 1; channels = 2; height = 3; width = 4; data = 5 (packed float);
 *               shape = 7 (BlobShape { dim = 1 packed int64 }); double_data = 8 (packed double) }
 * Tensors are named `<layer>/<blob index>` (`conv1_1/0` the kernel, OIHW; `conv1_1/1` the bias).
 * The legacy 4-D num/channels/height/width shape drops leading 1s for biases ([1, 1, 1, 64] -> [64])
 * and fully connected weights ([1, 1, 4096, 25088] -> [4096, 25088]), as Caffe itself reshapes them.
 */
import { ByteSource, type DType, conversionNote, readFloats } from '../byte-source.ts';
import { WeightError } from '../errors.ts';
import { WIRE, WireCursor } from '../protowire.ts';
import type { TensorEntry, TensorFile } from '../tensor-file.ts';

interface Blob {
  readonly name: string;
  readonly shape: number[];
  readonly offset: number;
  readonly count: number;
  readonly dtype: DType;
}

function scanBlob(c: WireCursor, name: string): Blob {
  let legacy: number[] = [1, 1, 1, 1];
  let hasLegacy = false;
  let shape: number[] | undefined;
  let data: { offset: number; count: number; dtype: DType } | undefined;
  while (!c.done()) {
    const f = c.next();
    if (f.field >= 1 && f.field <= 4 && f.wire === WIRE.varint) {
      legacy[f.field - 1] = f.value;
      hasLegacy = true;
    } else if (f.field === 7 && f.wire === WIRE.bytes) {
      const s = c.sub(f);
      shape = [];
      while (!s.done()) {
        const d = s.next();
        if (d.field === 1) shape.push(...s.varints(d));
      }
    } else if ((f.field === 5 || f.field === 8) && f.wire === WIRE.bytes) {
      const width = f.field === 5 ? 4 : 8;
      if (f.value % width) c.corrupt(`blob ${name} has ${f.value} data bytes, not a whole number of values`);
      data = { offset: f.start, count: f.value / width, dtype: f.field === 5 ? 'f32' : 'f64' };
    } else if ((f.field === 5 && f.wire === WIRE.fixed32) || (f.field === 8 && f.wire === WIRE.fixed64)) {
      c.corrupt(`blob ${name} stores its values unpacked (one field per value), which stc does not read`);
    }
  }
  if (!shape) {
    legacy = hasLegacy ? legacy : [data?.count ?? 0];
    const first = legacy.findIndex((d) => d !== 1);
    shape = first < 0 ? [1] : legacy.slice(first);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (!data) data = { offset: 0, count: 0, dtype: 'f32' };
  if (data.count !== count) c.corrupt(`blob ${name} has ${data.count} values for shape [${shape.join(', ')}]`);
  return { name, shape, ...data };
}

function scanLayer(c: WireCursor, v1: boolean, index: number): Blob[] {
  const nameField = v1 ? 4 : 1;
  const blobField = v1 ? 6 : 7;
  let name = `layer${index}`;
  const blobs: WireCursor[] = [];
  while (!c.done()) {
    const f = c.next();
    if (f.field === nameField && f.wire === WIRE.bytes) name = c.text(f);
    else if (f.field === blobField && f.wire === WIRE.bytes) blobs.push(c.sub(f, `a blob of layer ${index}`));
  }
  return blobs.map((b, i) => scanBlob(b, `${name}/${i}`));
}

export async function openCaffemodel(path: string): Promise<TensorFile> {
  const src = ByteSource.open(path);
  try {
    if (src.size === 0) throw new WeightError('truncated', `weights file ${path} is empty (0 bytes)`);
    const top = new WireCursor(src, 0, src.size, 'the NetParameter');
    const blobs: Blob[] = [];
    let layers = 0;
    while (!top.done()) {
      const f = top.next();
      if ((f.field === 100 || f.field === 2) && f.wire === WIRE.bytes) blobs.push(...scanLayer(top.sub(f, `layer ${layers}`), f.field === 2, layers++));
    }
    if (layers === 0) throw new WeightError('bad_format', `${path} is not a Caffe model: it has no layers`);
    return tensorFile(src, blobs);
  } catch (e) {
    src.close();
    throw e;
  }
}

function tensorFile(src: ByteSource, blobs: readonly Blob[]): TensorFile {
  const byName = new Map(blobs.map((b) => [b.name, b]));
  const entries: TensorEntry[] = blobs.map((b) => {
    const note = conversionNote(b.dtype);
    return { name: b.name, shape: b.shape, ...(note && { note }) };
  });
  return {
    path: src.path,
    format: 'caffemodel',
    entries,
    read: async (name) => {
      const b = byName.get(name);
      if (!b) throw new WeightError('missing_tensor', `weights file ${src.path} has no tensor ${name}`);
      return { shape: b.shape, data: readFloats(src, b.offset, b.count, b.dtype, `tensor ${name}`) };
    },
    close: () => src.close(),
  };
}
