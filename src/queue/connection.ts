/**
 * Reaching Redis: a quick probe that turns "nothing listens there" into one clear message, a
 * wait-with-backoff for workers (which may start before Redis does), and the BullMQ queue handle.
 */
import { Queue, type IRedisClient } from 'bullmq';
import { UserError } from '../util/errors.ts';
import { QUEUE_NAME } from './format.ts';
import { bullConnection, parseRedisUrl, probeClient } from './redis/client.ts';

export class RedisUnreachableError extends UserError {}

function checkUrl(url: string): void {
  try {
    parseRedisUrl(url);
  } catch (e) {
    throw new UserError(`--redis: ${(e as Error).message}`);
  }
}

/** Connect and PING once; a RedisUnreachableError says where and why not. */
export async function probeRedis(url: string, timeoutMs = 3000): Promise<void> {
  checkUrl(url);
  const c = probeClient(url, timeoutMs);
  // ioredis rejects connect() with "Connection is closed."; the socket's own error says why.
  let cause: Error | undefined;
  c.on('error', (e: Error) => (cause ??= e));
  try {
    await c.connect();
    await Promise.race([c.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no reply in ${timeoutMs} ms`)), timeoutMs))]);
  } catch (e) {
    const err = (cause ?? e) as NodeJS.ErrnoException;
    const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'unknown host' : err.message;
    throw new RedisUnreachableError(`cannot reach Redis at ${url} (${why}); start redis-server there, or pass --redis URL or set STC_REDIS`);
  } finally {
    c.disconnect();
  }
}

export interface BackoffOptions {
  /** First delay; doubled after each failure up to maxDelayMs. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly onRetry?: (e: { readonly attempt: number; readonly delayMs: number; readonly error: RedisUnreachableError }) => void;
  /** Stop waiting (SIGTERM while Redis is down); the wait then rejects with this signal's reason. */
  readonly signal?: AbortSignal;
}

/** Retry-delay of the n-th failed attempt (1-based): exponential, capped. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** (attempt - 1));
}

/** Probe until Redis answers, waiting with exponential backoff between attempts. */
export async function waitForRedis(url: string, opts: BackoffOptions = {}): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      await probeRedis(url);
      return;
    } catch (e) {
      if (!(e instanceof RedisUnreachableError)) throw e;
      const delayMs = backoffMs(attempt, opts.initialDelayMs ?? 1000, opts.maxDelayMs ?? 30_000);
      opts.onRetry?.({ attempt, delayMs, error: e });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delayMs);
        opts.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  }
}

export interface QueueHandle {
  readonly queue: Queue;
  readonly redis: IRedisClient;
  close(): Promise<void>;
}

/** The stc queue on `url` (probed first, so an unreachable Redis is one message, not a hang). */
export async function openQueue(url: string): Promise<QueueHandle> {
  await probeRedis(url);
  const conn = bullConnection(url);
  const queue = new Queue(QUEUE_NAME, { connection: conn });
  await queue.waitUntilReady();
  return {
    queue,
    redis: conn,
    async close() {
      await queue.close();
      // BullMQ leaves a connection it was handed open: it may be shared
      await conn.quit();
    },
  };
}
