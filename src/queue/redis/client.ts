/**
 * Redis connections for the queue: ioredis, the driver BullMQ is built and tested on, wrapped by BullMQ's own
 * adapter. `--redis` URLs are checked here first, so a malformed one is a message, not a driver error.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { createIORedisClient, type IRedisClient } from 'bullmq';

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

const options = (t: RedisTarget): RedisOptions => ({
  host: t.host,
  port: t.port,
  db: t.db,
  ...(t.username !== undefined && { username: t.username }),
  ...(t.password !== undefined && { password: t.password }),
});

/**
 * One connection attempt, no retries and no offline queue: for probes, where "nothing listens there" must come
 * back as an error at once instead of a command waiting for a reconnect.
 */
export function probeClient(url: string, connectTimeoutMs: number): Redis {
  return new Redis({ ...options(parseRedisUrl(url)), lazyConnect: true, connectTimeout: connectTimeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
}

/**
 * A BullMQ connection to `url`, not yet connected (BullMQ connects it on first use). BullMQ's blocking commands
 * need `maxRetriesPerRequest: null`; ioredis reconnects with its own backoff when Redis goes away, and BullMQ
 * resumes once it is back. Connection errors reach callers through their commands' rejections: the listener
 * only keeps ioredis from printing them.
 */
export function bullConnection(url: string): IRedisClient {
  const client = new Redis({ ...options(parseRedisUrl(url)), lazyConnect: true, maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  return createIORedisClient(client);
}
