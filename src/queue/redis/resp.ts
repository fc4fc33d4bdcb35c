/**
 * The Redis wire protocol, RESP2 (https://redis.io/docs/latest/develop/reference/protocol-spec/):
 * commands go out as arrays of bulk strings; replies are parsed incrementally from a byte stream.
 * Bulk strings decode as UTF-8 strings, integers as numbers, nil as null, errors as `RespError`,
 * which is what BullMQ's client adapters expect of a RESP2 driver.
 */

export type RespValue = string | number | null | RespValue[] | RespError;

/** An error reply (`-ERR ...`); kept as a value so one bad reply in a pipeline fails only its command. */
export class RespError extends Error {
  override readonly name = 'RespError';
}

export function encodeCommand(command: string, args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length + 1}\r\n$${Buffer.byteLength(command)}\r\n${command}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Incremental reply parser: push bytes in, take complete replies out. */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  push(chunk: Buffer): void {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
  }

  /** The next complete reply, or undefined when more bytes are needed. */
  next(): { value: RespValue } | undefined {
    const start = this.pos;
    const v = this.parse();
    if (v === undefined) {
      this.pos = start;
      return undefined;
    }
    return v;
  }

  private line(): string | undefined {
    const end = this.buf.indexOf('\r\n', this.pos);
    if (end < 0) return undefined;
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 2;
    return s;
  }

  private parse(): { value: RespValue } | undefined {
    if (this.pos >= this.buf.length) return undefined;
    const type = String.fromCharCode(this.buf[this.pos]!);
    this.pos++;
    const head = this.line();
    if (head === undefined) return undefined;
    switch (type) {
      case '+':
        return { value: head };
      case '-':
        return { value: new RespError(head) };
      case ':':
        return { value: Number(head) };
      case '$': {
        const n = Number(head);
        if (n < 0) return { value: null };
        if (this.buf.length < this.pos + n + 2) return undefined;
        const s = this.buf.toString('utf8', this.pos, this.pos + n);
        this.pos += n + 2;
        return { value: s };
      }
      case '*': {
        const n = Number(head);
        if (n < 0) return { value: null };
        const items: RespValue[] = [];
        for (let i = 0; i < n; i++) {
          const item = this.parse();
          if (item === undefined) return undefined;
          items.push(item.value);
        }
        return { value: items };
      }
      default:
        throw new Error(`Redis protocol error: unexpected reply type '${type}'`);
    }
  }
}
