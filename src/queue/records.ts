/** A job's record in Redis (`stc:job:<id>`, JSON): what was submitted, its task names and whether it was cancelled. */
import type { IRedisClient } from 'bullmq';
import { UserError } from '../util/errors.ts';
import { jobKey } from './format.ts';
import type { JobRecord } from './types.ts';

export async function readRecord(redis: IRedisClient, id: string): Promise<JobRecord | undefined> {
  const text = await redis.get(jobKey(id));
  return text ? (JSON.parse(text) as JobRecord) : undefined;
}

export async function requireRecord(redis: IRedisClient, id: string): Promise<JobRecord> {
  const r = await readRecord(redis, id);
  if (!r) throw new UserError(`no job ${id} on this Redis (stc queue submit prints the id)`);
  return r;
}

export async function writeRecord(redis: IRedisClient, r: JobRecord): Promise<void> {
  await redis.set(jobKey(r.id), JSON.stringify(r));
}
