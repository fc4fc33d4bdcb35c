/**
 * A minimal Redis connection for BullMQ: one TCP socket speaking RESP2, shaped like the raw client
 * BullMQ's `createBunRedisClient` adapter wraps (`send`, `connect`, `close`, `duplicate`, callbacks).
 * BullMQ's adapter then supplies everything else: Lua scripts, pipelines, transactions and
 * reconnection with backoff. It exists because no Redis driver (ioredis, node-redis) is among
 * stc's dependencies; it is a wire-protocol driver, not a queue: all queue semantics are BullMQ's.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { createBunRedisClient, type BunRedisRawClient, type IRedisClient } from 'bullmq';
import { RespError, RespParser, encodeCommand, type RespValue } from './resp.ts';

export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
}

/** `redis://[[user]:password@]host[:port][/db]`; throws a plain Error on anything else (callers word it). */
export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`'${url}' is not a URL (expected redis://host:6379)`);
  }
  if (u.protocol !== 'redis:') throw new Error(`'${url}' is not a redis:// URL`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`'${url}' names database '${u.pathname.slice(1)}'; expected a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
  };
}

interface Pending {
  resolve(v: RespValue): void;
  reject(e: Error): void;
}

/** Messages BullMQ's adapter recognises as "the connection is gone" (it then reconnects). */
const CLOSED = 'Connection closed';

export class RespClient implements BunRedisRawClient {
  connected = false;
  onconnect: ((...args: unknown[]) => void) | null = null;
  onclose: ((...args: unknown[]) => void) | null = null;
  onerror: ((...args: unknown[]) => void) | null = null;
  private socket: Socket | undefined;
  private readonly pending: Pending[] = [];
  private readonly parser = new RespParser();

  constructor(
    readonly target: RedisTarget,
    private readonly connectTimeoutMs = 5000,
  ) {}

  get url(): string {
    return `redis://${this.target.host}:${this.target.port}/${this.target.db}`;
  }

  async connect(): Promise<void> {
    const socket = tcpConnect({ host: this.target.host, port: this.target.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    this.socket = socket;
    this.connected = true;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e) => this.onerror?.(e));
    socket.on('close', () => this.closed());
    const { username, password, db } = this.target;
    if (password !== undefined) await this.send('AUTH', username !== undefined ? [username, password] : [password]);
    if (db !== 0) await this.send('SELECT', [String(db)]);
    this.onconnect?.();
  }

  send<T = RespValue>(command: string, args: (string | Buffer)[]): Promise<T> {
    const socket = this.socket;
    if (!this.connected || !socket) return Promise.reject(new Error(CLOSED));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ resolve: resolve as (v: RespValue) => void, reject });
      socket.write(encodeCommand(command, args));
    });
  }

  get(key: string): Promise<string | null> {
    return this.send<string | null>('GET', [key]);
  }

  smembers(key: string): Promise<unknown[]> {
    return this.send<unknown[]>('SMEMBERS', [key]);
  }

  incr(key: string): Promise<number> {
    return this.send<number>('INCR', [key]);
  }

  close(): void {
    this.socket?.destroy();
  }

  async duplicate(): Promise<this> {
    return new RespClient(this.target, this.connectTimeoutMs) as this;
  }

  private receive(chunk: Buffer): void {
    this.parser.push(chunk);
    for (let r = this.parser.next(); r; r = this.parser.next()) {
      const p = this.pending.shift();
      if (!p) continue;
      if (r.value instanceof RespError) p.reject(r.value);
      else p.resolve(r.value);
    }
  }

  private closed(): void {
    const was = this.connected;
    this.connected = false;
    this.socket = undefined;
    for (const p of this.pending.splice(0)) p.reject(new Error(CLOSED));
    if (was) this.onclose?.();
  }
}

/** A BullMQ connection to `url` (not yet connected: BullMQ connects it on first use). */
export function bullConnection(url: string): IRedisClient {
  return createBunRedisClient(new RespClient(parseRedisUrl(url)), { lazyConnect: true });
}
