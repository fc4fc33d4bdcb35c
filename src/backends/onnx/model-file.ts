/**
 * A ModelProto serialised chunk by chunk: the model's own fields, the graph's header (nodes, inputs,
 * outputs), then one initializer at a time. The concatenation is the same protobuf message as
 * `ModelProto.encode(model)` (fields may come in any order on the wire; the graph, field 7, comes
 * last and its initializers, field 5, after its other fields), but the whole serialised model never
 * exists in memory at once: emitModel's single buffer is one more full copy of every weight, alive
 * while ONNX Runtime parses it. OnnxBackend writes the chunks to a temporary file and lets ONNX Runtime
 * read the file (VGG-19 Gatys step at 256²: 538-555 against 582-596 MB peak RSS; docs/benchmarks.md, "Memory").
 * Where the temporary folder is a RAM-backed tmpfs, that copy moves out of the process into tmpfs for
 * the moments the file exists: no less memory in all, but no more either.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAll } from '../../util/atomic-write.ts';
import { type ModelProto, onnx } from './proto.ts';

const LENGTH_DELIMITED = 2;
const MODEL_GRAPH_FIELD = 7;
const GRAPH_INITIALIZER_FIELD = 5;
const TENSOR_RAW_DATA_FIELD = 9;

/** Protobuf base-128 varint of a non-negative integer below 2⁵³. */
export function varint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`varint: ${n} is not a non-negative safe integer`);
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Tag and length of a length-delimited field. */
function fieldHeader(field: number, length: number): Uint8Array {
  const tag = varint(field * 8 + LENGTH_DELIMITED);
  const len = varint(length);
  const out = new Uint8Array(tag.length + len.length);
  out.set(tag);
  out.set(len, tag.length);
  return out;
}

export interface ModelChunks {
  /** Total serialised size in bytes. */
  readonly size: number;
  /** The chunks in order; an initializer's raw data is yielded as the very bytes it holds (no copy). */
  chunks(): Iterable<Uint8Array>;
}

type TensorProto = NonNullable<NonNullable<ModelProto['graph']>['initializer']>[number];

/**
 * One initializer as chunks: its other fields encoded, then its raw_data field header and the raw
 * bytes themselves, so no serialised copy of the weights is ever made (fields may come in any order).
 */
function tensorChunks(t: TensorProto): { readonly size: number; readonly parts: readonly Uint8Array[] } {
  const { rawData, ...rest } = t;
  if (!rawData || rawData.length === 0) {
    const whole = onnx.TensorProto.encode(t).finish();
    return { size: whole.length, parts: [whole] };
  }
  const head = onnx.TensorProto.encode(rest).finish();
  const raw = fieldHeader(TENSOR_RAW_DATA_FIELD, rawData.length);
  return { size: head.length + raw.length + rawData.length, parts: [head, raw, rawData] };
}

export function modelChunks(model: ModelProto): ModelChunks {
  const graph = model.graph ?? undefined;
  const head = onnx.ModelProto.encode({ ...model, graph: null }).finish();
  if (!graph) return { size: head.length, chunks: () => [head] };
  const inits = (graph.initializer ?? []).map(tensorChunks);
  const graphHead = onnx.GraphProto.encode({ ...graph, initializer: [] }).finish();
  const graphSize = graphHead.length + inits.reduce((n, t) => n + fieldHeader(GRAPH_INITIALIZER_FIELD, t.size).length + t.size, 0);
  const graphField = fieldHeader(MODEL_GRAPH_FIELD, graphSize);
  return {
    size: head.length + graphField.length + graphSize,
    *chunks() {
      yield head;
      yield graphField;
      yield graphHead;
      for (const t of inits) {
        yield fieldHeader(GRAPH_INITIALIZER_FIELD, t.size);
        yield* t.parts;
      }
    },
  };
}

/** Write the chunks to `path`, in order. */
export async function writeChunks(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (const c of chunks) await writeAll(fh, c);
  } finally {
    await fh.close();
  }
}

/** A serialised model ready for ONNX Runtime: a temporary file, or one buffer where no file can be written. */
export interface ModelSource {
  readonly source: string | Uint8Array;
  /** Remove the temporary file (a no-op for a buffer). */
  remove(): Promise<void>;
}

/**
 * The model written to a fresh temporary file. Where no temporary file can be written (a full or
 * read-only temp folder), the model as one buffer instead. The result holds no reference to `model`,
 * so a caller that drops its own can have the ModelProto (and every constant it holds) collected
 * before ONNX Runtime reads the file.
 */
export async function writeModelSource(model: ModelProto): Promise<ModelSource> {
  const parts = modelChunks(model);
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), 'stc-model-'));
    const file = join(dir, 'model.onnx');
    await writeChunks(file, parts.chunks());
    const written = dir;
    return { source: file, remove: () => rm(written, { recursive: true, force: true }) };
  } catch (e) {
    if (dir) await rm(dir, { recursive: true, force: true });
    if (!isFileSystemError(e)) throw e;
    return { source: Buffer.concat([...parts.chunks()], parts.size), remove: async () => {} };
  }
}

/** Run `use` with a written model's source, removing its temporary file afterwards, also on failure. */
export async function useModelSource<T>(m: ModelSource, use: (model: string | Uint8Array) => Promise<T>): Promise<T> {
  try {
    return await use(m.source);
  } finally {
    await m.remove();
  }
}

function isFileSystemError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'ENOENT', 'EDQUOT', 'EMFILE'].includes(code);
}
