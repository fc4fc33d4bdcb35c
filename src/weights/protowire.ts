/**
 * A protobuf wire-format scanner over a ByteSource (https://protobuf.dev/programming-guides/encoding/).
 * protobufjs decodes a whole message in memory, and one VGG blob (Caffe's fc6) is 411 MB, so the
 * Caffe and ONNX readers walk the outer messages here, field by field, and note where each
 * tensor's packed data lies instead of copying it; only those bytes are read later, once.
 */
import type { ByteSource } from './byte-source.ts';
import { WeightError } from './errors.ts';

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

export interface Field {
  readonly field: number;
  readonly wire: number;
  /** varint value (wire 0); for wire 2 the payload's length. */
  readonly value: number;
  /** Offset of the payload in the file (wire 1, 2, 5). */
  readonly start: number;
}

const WINDOW = 1 << 16;

export class WireCursor {
  pos: number;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;

  constructor(
    private readonly src: ByteSource,
    start: number,
    readonly end: number,
    private readonly what: string,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  private byte(): number {
    if (this.pos >= this.end) this.corrupt('a field runs past the end of its message');
    const i = this.pos - this.bufStart;
    if (i < 0 || i >= this.buf.length) {
      this.bufStart = this.pos;
      this.buf = this.src.read(this.pos, Math.min(WINDOW, this.end - this.pos), this.what);
    }
    return this.buf[this.pos++ - this.bufStart]!;
  }

  /** A varint as a JS number; values past 2^53 are corrupt for our purposes (sizes and dims). */
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) {
        if (!Number.isSafeInteger(v)) this.corrupt('a varint is out of range');
        return v;
      }
      mul *= 128;
    }
    return this.corrupt('a varint is longer than 10 bytes');
  }

  /** The next field; for wire types 1, 2 and 5 the cursor is moved past the payload. */
  next(): Field {
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 0) this.corrupt('field number 0');
    let value = 0;
    const start = this.pos;
    switch (wire) {
      case WIRE.varint:
        value = this.varint();
        break;
      case WIRE.fixed64:
        this.advance(8);
        break;
      case WIRE.fixed32:
        this.advance(4);
        break;
      case WIRE.bytes: {
        value = this.varint();
        const s = this.pos;
        this.advance(value);
        return { field, wire, value, start: s };
      }
      default:
        this.corrupt(`wire type ${wire} (groups are not used by caffe.proto or onnx.proto)`);
    }
    return { field, wire, value, start };
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) this.corrupt('a field runs past the end of its message');
    this.pos += n;
  }

  /** A sub-cursor over a length-delimited field's payload. */
  sub(f: Field, what = this.what): WireCursor {
    return new WireCursor(this.src, f.start, f.start + f.value, what);
  }

  /** A length-delimited field's payload as text (names; short by nature). */
  text(f: Field): string {
    if (f.value > 1 << 20) this.corrupt(`a ${f.value}-byte name`);
    return new TextDecoder().decode(this.src.read(f.start, f.value, this.what));
  }

  /** Packed varints of a length-delimited field (shape dims), or the single value of a varint field. */
  varints(f: Field): number[] {
    if (f.wire === WIRE.varint) return [f.value];
    const c = this.sub(f);
    const out: number[] = [];
    while (!c.done()) out.push(c.varint());
    return out;
  }

  corrupt(why: string): never {
    throw new WeightError('truncated', `weights file ${this.src.path} is truncated or corrupt: ${why} in ${this.what} at byte ${this.pos}`);
  }
}
