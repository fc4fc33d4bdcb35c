/**
 * A restricted unpickler for PyTorch state dicts (pickle protocols 2-5,
 * https://github.com/python/cpython/blob/main/Lib/pickletools.py). It builds plain values and
 * calls no code: the only globals it accepts are the handful torch.save writes for a state dict
 * (OrderedDict, the tensor rebuild functions, storage types), each rebuilt here as data. Any other
 * global (`os.system` in a `__reduce__` payload) or an opcode outside the subset is an error naming
 * it, before anything runs.
 */
export interface StorageRef {
  readonly kind: 'storage';
  /** `FloatStorage`, `HalfStorage`, ... */
  readonly type: string;
  readonly key: string;
  /** Element count as recorded (legacy files); undefined in zip files. */
  readonly size?: number;
}

export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
}

export class PickleError extends Error {}

/** A callable global: rebuilt here, never imported. */
interface Global {
  readonly kind: 'global';
  readonly name: string;
}

type Value = unknown;
const MARK = Symbol('mark');

const ALLOWED = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_parameter',
  'torch.FloatStorage',
  'torch.HalfStorage',
  'torch.DoubleStorage',
  'torch.BFloat16Storage',
  'torch.LongStorage',
  'torch.IntStorage',
  'torch.ByteStorage',
  'torch.BoolStorage',
  'torch.storage.UntypedStorage',
  'torch._tensor._rebuild_from_type_v2',
  'builtins.set',
  '__builtin__.set',
]);

function call(fn: Value, args: Value): Value {
  const g = fn as Global;
  if (typeof fn !== 'object' || fn === null || g.kind !== 'global') throw new PickleError('REDUCE on a value that is not a known global');
  const a = args as Value[];
  if (!Array.isArray(a)) throw new PickleError(`${g.name} called without an argument tuple`);
  switch (g.name) {
    case 'collections.OrderedDict':
      return new Map();
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, shape, stride] = a as [StorageRef, number, number[], number[]];
      if ((storage as StorageRef | undefined)?.kind !== 'storage' || typeof offset !== 'number' || !Array.isArray(shape) || !Array.isArray(stride))
        throw new PickleError(`${g.name} with unexpected arguments`);
      return { kind: 'tensor', storage, offset, shape: shape.map(Number), stride: stride.map(Number) } satisfies TensorRef;
    }
    case 'torch._utils._rebuild_parameter':
      return a[0];
    case 'torch._tensor._rebuild_from_type_v2':
      // (func, type, args, state): a tensor subclass; rebuild the plain tensor from func(*args).
      return call(a[0], a[2]);
    case 'builtins.set':
    case '__builtin__.set':
      return new Set(Array.isArray(a[0]) ? (a[0] as Value[]) : []);
    default:
      throw new PickleError(`${g.name} cannot be called`);
  }
}

function storageFromPid(pid: Value): StorageRef {
  const t = pid as Value[];
  if (!Array.isArray(t) || t[0] !== 'storage') throw new PickleError('a persistent id that is not a storage');
  const type = (t[1] as Global | undefined)?.name?.split('.').pop() ?? String(t[1]);
  const size = typeof t[4] === 'number' ? t[4] : undefined;
  return { kind: 'storage', type, key: String(t[2]), ...(size !== undefined && { size }) };
}

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  u8(): number {
    if (this.pos >= this.b.length) throw new PickleError('the pickle ends before STOP');
    return this.b[this.pos++]!;
  }
  bytes(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.b.length) throw new PickleError('the pickle ends inside a value');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  uint(n: number): number {
    const s = this.bytes(n);
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + s[i]!;
    if (!Number.isSafeInteger(v)) throw new PickleError('a length out of range');
    return v;
  }
  int32(): number {
    const s = this.bytes(4);
    return new DataView(s.buffer, s.byteOffset, 4).getInt32(0, true);
  }
  line(): string {
    const end = this.b.indexOf(0x0a, this.pos);
    if (end < 0) throw new PickleError('the pickle ends inside a line');
    const s = new TextDecoder('latin1').decode(this.b.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  str(n: number): string {
    return new TextDecoder().decode(this.bytes(n));
  }
}

function long1(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  let v = 0;
  for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + bytes[i]!;
  if (bytes[bytes.length - 1]! & 0x80) v -= 2 ** (8 * bytes.length);
  return v;
}

/** The value of an opcode that pushes a literal (numbers, strings, empty containers), or undefined for any other opcode. */
function literal(op: number, r: Reader): { value: Value } | undefined {
  switch (op) {
    case 0x7d: return { value: new Map() }; // EMPTY_DICT
    case 0x5d: return { value: [] }; // EMPTY_LIST
    case 0x29: return { value: [] }; // EMPTY_TUPLE
    case 0x8f: return { value: new Set() }; // EMPTY_SET
    case 0x4e: return { value: null }; // NONE
    case 0x88: return { value: true }; // NEWTRUE
    case 0x89: return { value: false }; // NEWFALSE
    case 0x4b: return { value: r.u8() }; // BININT1
    case 0x4d: return { value: r.uint(2) }; // BININT2
    case 0x4a: return { value: r.int32() }; // BININT
    case 0x8a: return { value: long1(r.bytes(r.u8())) }; // LONG1
    case 0x47: { const s = r.bytes(8); return { value: new DataView(s.buffer, s.byteOffset, 8).getFloat64(0, false) }; } // BINFLOAT
    case 0x58: return { value: r.str(r.uint(4)) }; // BINUNICODE
    case 0x8c: return { value: r.str(r.u8()) }; // SHORT_BINUNICODE
    case 0x8d: return { value: r.str(r.uint(8)) }; // BINUNICODE8
    case 0x55: return { value: new TextDecoder('latin1').decode(r.bytes(r.u8())) }; // SHORT_BINSTRING
    case 0x54: return { value: new TextDecoder('latin1').decode(r.bytes(r.uint(4))) }; // BINSTRING
    case 0x43: return { value: r.bytes(r.u8()) }; // SHORT_BINBYTES
    case 0x42: return { value: r.bytes(r.uint(4)) }; // BINBYTES
    default:
      return undefined;
  }
}

/** Unpickle `buf` from its start; returns the value and the offset after STOP. */
export function unpickle(buf: Uint8Array): { value: Value; end: number } {
  const r = new Reader(buf);
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  const pop = (): Value => {
    if (stack.length === 0) throw new PickleError('stack underflow');
    return stack.pop();
  };
  const popMark = (): Value[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw new PickleError('no MARK on the stack');
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const top = (): Value => {
    if (stack.length === 0) throw new PickleError('stack underflow');
    return stack[stack.length - 1];
  };
  const global = (name: string): Global => {
    if (!ALLOWED.has(name)) throw new PickleError(`it asks for the global ${name}`);
    return { kind: 'global', name };
  };
  const setItems = (d: Value, kv: Value[]): void => {
    if (!(d instanceof Map)) throw new PickleError('SETITEM on a value that is not a dict');
    for (let i = 0; i + 1 < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  };
  const append = (l: Value, xs: Value[]): void => {
    if (!Array.isArray(l)) throw new PickleError('APPEND on a value that is not a list');
    l.push(...xs);
  };
  for (let steps = 0; ; steps++) {
    const op = r.u8();
    switch (op) {
      case 0x80: r.u8(); break; // PROTO
      case 0x95: r.bytes(8); break; // FRAME (we hold the whole pickle)
      case 0x2e: return { value: pop(), end: r.pos }; // STOP
      case 0x28: stack.push(MARK); break; // MARK
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { const d = new Map(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x71: memo.set(r.u8(), top()); break; // BINPUT
      case 0x72: memo.set(r.uint(4), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { const k = op === 0x68 ? r.u8() : r.uint(4); if (!memo.has(k)) throw new PickleError(`memo ${k} is not set`); stack.push(memo.get(k)); break; } // BINGET, LONG_BINGET
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const xs = popMark(); append(top(), xs); break; } // APPENDS
      case 0x90: { const xs = popMark(); const s = top(); if (s instanceof Set) for (const x of xs) s.add(x); break; } // ADDITEMS
      case 0x63: { const mod = r.line(); stack.push(global(`${mod}.${r.line()}`)); break; } // GLOBAL
      case 0x93: { const name = pop(); const mod = pop(); stack.push(global(`${String(mod)}.${String(name)}`)); break; } // STACK_GLOBAL
      case 0x52: { const args = pop(); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x81: { const args = pop(); stack.push(call(pop(), args)); break; } // NEWOBJ
      case 0x62: { // BUILD: state for a rebuilt object; an OrderedDict's state may carry items.
        const state = pop();
        const obj = top();
        if (obj instanceof Map && state instanceof Map) for (const [k, v] of state) obj.set(k, v);
        break;
      }
      case 0x51: stack.push(storageFromPid(pop())); break; // BINPERSID
      default: {
        const lit = literal(op, r);
        if (!lit) throw new PickleError(`opcode 0x${op.toString(16).padStart(2, '0')} at byte ${r.pos - 1} is outside the state-dict subset stc reads`);
        stack.push(lit.value);
      }
    }
    if (steps > 50_000_000) throw new PickleError('too many opcodes');
  }
}
