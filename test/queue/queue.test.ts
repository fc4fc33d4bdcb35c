/**
 * The queue end to end: a real redis-server, three worker processes (one killed mid-task), a
 * 60-image folder and a 10-second video, compared with single-process `stc apply`; then the bad
 * cases (vanished input, duplicate job, newer task format, Redis unreachable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpegAvailable } from '../../src/runtime/apply/video.ts';
import { TASK_FORMAT } from '../../src/queue/format.ts';
import { openStorage } from '../../src/queue/storage.ts';
import { planApply } from '../../src/queue/plan/apply.ts';
import { submitJob } from '../../src/queue/submit.ts';
import { jobStatus, type JobStatus } from '../../src/queue/status.ts';
import { main } from '../../src/cli/main.ts';
import { writeCoordImage } from '../runtime/data/fixtures.ts';
import { tinyNetModel } from '../runtime/apply/tiny-models.ts';
import { STC_BIN, freePort, redisServerAvailable, runMain, spawnNode, startRedis, type Child, type RedisServer } from './helpers.ts';

const hasRedis = redisServerAvailable();
const hasFfmpeg = ffmpegAvailable();
if (!hasRedis) console.warn('[skip] redis-server is not installed (Debian: apt-get install redis-server): the queue tests need a real Redis');
if (hasRedis && !hasFfmpeg) console.warn('[skip] ffmpeg is absent: the queue video test is skipped');

const HELD = fileURLToPath(new URL('./held-worker.ts', import.meta.url));
// long enough that a loaded machine's late lock renewals are not taken for dead workers
const LOCK_MS = '10000';

let redis: RedisServer;
let root: string;
let workers: Child;
let held: Child;
const q = (...args: string[]) => ['queue', ...args, '--redis', redis.url];

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  return out.sort();
}

async function until(id: string, done: (s: JobStatus) => boolean, timeoutMs = 90_000): Promise<JobStatus> {
  const t0 = Date.now();
  for (;;) {
    const s = await jobStatus(redis.url, id);
    if (done(s)) return s;
    if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} did not finish: ${JSON.stringify(s)}\nworkers:\n${workers?.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
const settled = (s: JobStatus) => s.running + s.remaining === 0;

async function submit(...args: string[]): Promise<string> {
  const r = await runMain(q('submit', ...args, '--storage', root), root);
  expect(r.code, r.out).toBe(0);
  return r.out.split('\n').find((l) => /^[0-9a-f]{16}$/.test(l))!;
}

beforeAll(async () => {
  if (!hasRedis) return;
  redis = await startRedis();
  root = await mkdtemp(join(tmpdir(), 'stc-queue-'));
  await writeFile(join(root, 'm.onnx'), tinyNetModel(5));
  await mkdir(join(root, 'photos', 'sub'), { recursive: true });
  for (let i = 0; i < 60; i++) await writeCoordImage(join(root, 'photos', i % 4 === 0 ? 'sub' : '', `p${String(i).padStart(2, '0')}.png`), 24, 16, 4 * i);
  if (hasFfmpeg) {
    const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=32x24:rate=5:duration=10', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=10', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', join(root, 'clip.mp4')]);
    expect(made.status, made.stderr?.toString()).toBe(0);
  }
});

afterAll(async () => {
  if (!hasRedis) return;
  held?.proc.kill('SIGKILL');
  workers?.proc.kill('SIGKILL');
  await redis.stop();
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!hasRedis)('stc queue', () => {
  it('stylises a folder and a video with three workers, one killed mid-task, exactly as stc apply does', async () => {
    const t0 = Date.now();
    const stage = (s: string) => console.log(`[queue test] ${s} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const folderJob = await submit('apply', 'm.onnx', 'photos', '-o', 'out', '--per-task', '4');
    const videoJob = hasFfmpeg ? await submit('apply', 'm.onnx', 'clip.mp4', '-o', 'clip-out.mp4', '--frames-per-task', '10') : undefined;
    stage('submitted');
    held = spawnNode(HELD, [redis.url, LOCK_MS]);
    const holding = (await held.waitFor(/^holding /)).slice('holding '.length);
    workers = spawnNode(STC_BIN, q('worker', '--local', '2', '--threads', '1', '--lock-ms', LOCK_MS));
    stage(`held worker holds ${holding}`);
    await workers.waitFor(/done /, 120_000);
    held.proc.kill('SIGKILL');
    stage('killed the held worker');
    const s = await until(folderJob, settled, 200_000);
    stage('folder done');
    expect([s.done, s.failed, s.total]).toEqual([15, 0, 15]);
    // the killed worker's task went back to the queue and another worker ran it
    expect(workers.lines.some((l) => l.endsWith(`done ${holding}`) || l.includes(`done ${holding} in`))).toBe(true);

    expect(await main(['node', 'stc', 'apply', join(root, 'm.onnx'), join(root, 'photos'), '-o', join(root, 'ref'), '--threads', '1'])).toBe(0);
    const names = await files(join(root, 'out'));
    expect(names).toEqual(await files(join(root, 'ref')));
    expect(names).toHaveLength(60);
    for (const n of names) expect((await readFile(join(root, 'out', n))).equals(await readFile(join(root, 'ref', n))), n).toBe(true);

    if (videoJob) {
      const v = await until(videoJob, settled, 200_000);
      stage('video done');
      expect([v.done, v.failed, v.total]).toEqual([6, 0, 6]);
      expect(await main(['node', 'stc', 'apply', join(root, 'm.onnx'), join(root, 'clip.mp4'), '-o', join(root, 'clip-ref.mp4'), '--threads', '1'])).toBe(0);
      expect((await readFile(join(root, 'clip-out.mp4'))).equals(await readFile(join(root, 'clip-ref.mp4')))).toBe(true);
      const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,nb_read_frames:format=duration', '-of', 'json', join(root, 'clip-out.mp4')], { encoding: 'utf8' });
      const info = JSON.parse(probe.stdout) as { streams: { codec_type: string; nb_read_frames?: string }[]; format: { duration: string } };
      expect(info.streams.find((x) => x.codec_type === 'video')!.nb_read_frames).toBe('50');
      expect(info.streams.some((x) => x.codec_type === 'audio')).toBe(true);
      expect(Number(info.format.duration)).toBeCloseTo(10, 0);
      expect((await readdir(root)).filter((n) => n.startsWith('.stc-chunks') || n.startsWith('.tmp-'))).toEqual([]);
    }
  }, 600_000);

  it('detects the same job submitted twice by its content hash', async () => {
    const r = await runMain(q('submit', 'apply', 'm.onnx', 'photos', '-o', 'out', '--per-task', '4', '--storage', root), root);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/stc: error: this job was already submitted at .* as [0-9a-f]{16}/);
  });

  it('fails a task whose input vanished, alone, reports it, and re-runs it on retry', async () => {
    await mkdir(join(root, 'few'));
    for (let i = 0; i < 8; i++) await writeCoordImage(join(root, 'few', `f${i}.png`), 20, 12, i);
    // hashed when the job is planned, gone by the time a worker reads it
    const plan = await planApply(openStorage(root), { model: join(root, 'm.onnx'), input: join(root, 'few'), output: join(root, 'few-out'), perTask: 4, options: {} });
    await rename(join(root, 'few', 'f5.png'), join(root, 'f5.png.away'));
    const { id } = await submitJob(redis.url, plan);
    const s = await until(id, settled);
    expect([s.done, s.failed]).toEqual([1, 1]);
    expect(s.failures[0]!.error).toMatch(/input few\/f5\.png vanished/);
    expect(s.failures[0]!.attempts).toBe(1);
    const st = await runMain(q('status', id, '--json'));
    expect(st.code).toBe(1);
    expect((JSON.parse(st.out.split('\n').find((l) => l.startsWith('{'))!) as JobStatus).failed).toBe(1);
    await rename(join(root, 'f5.png.away'), join(root, 'few', 'f5.png'));
    expect((await runMain(q('retry', id))).out).toMatch(/retrying 1 failed task/);
    const after = await until(id, (x) => x.done === 2);
    expect(after.failed).toBe(0);
    expect(await files(join(root, 'few-out'))).toHaveLength(8);
  }, 120_000);

  it('refuses a task written in a newer task format, with the reason', async () => {
    await mkdir(join(root, 'newer'));
    await writeCoordImage(join(root, 'newer', 'n.png'), 16, 16, 1);
    const plan = await planApply(openStorage(root), { model: join(root, 'm.onnx'), input: join(root, 'newer'), output: join(root, 'newer-out'), perTask: 4, options: {} });
    await submitJob(redis.url, { ...plan, tasks: plan.tasks.map((t) => ({ ...t, format: TASK_FORMAT + 1 })) });
    const s = await until(plan.id, settled);
    expect(s.failed).toBe(1);
    expect(s.failures[0]!.error).toMatch(new RegExp(`task format ${TASK_FORMAT + 1} is newer than this worker's \\(${TASK_FORMAT}\\).*upgrade stc`));
    await workers.waitFor(/refused .*newer/);
  });

  it('says once that Redis is unreachable, at submit and at worker start, and the worker retries with backoff', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const r = await runMain(['queue', 'submit', 'apply', 'm.onnx', 'photos', '-o', 'x', '--redis', dead, '--storage', root], root);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n')).toEqual([`stc: error: cannot reach Redis at ${dead} (connection refused); start redis-server there, or pass --redis URL or set STC_REDIS`]);
    const w = spawnNode(STC_BIN, ['queue', 'worker', '--redis', dead]);
    await w.waitFor(/stc: error: cannot reach Redis/);
    await w.waitFor(/still unreachable; next try in 2 s/, 10_000);
    w.proc.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  it('stops the workers gracefully on SIGTERM', async () => {
    workers.proc.kill('SIGTERM');
    expect(await workers.exited).toBe(0);
    expect(workers.lines.filter((l) => /worker stopped$/.test(l))).toHaveLength(2);
  });

  it('cancels a job: its waiting tasks are dropped and a worker would refuse the rest', async () => {
    // the workers are stopped: every task is still waiting
    await mkdir(join(root, 'later'));
    for (let i = 0; i < 6; i++) await writeCoordImage(join(root, 'later', `l${i}.png`), 16, 16, i);
    const plan = await planApply(openStorage(root), { model: join(root, 'm.onnx'), input: join(root, 'later'), output: join(root, 'later-out'), perTask: 2, options: {} });
    await submitJob(redis.url, plan);
    const r = await runMain(q('cancel', plan.id));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`cancelled job ${plan.id}: 3 task\\(s\\) dropped`));
    const s = await jobStatus(redis.url, plan.id);
    expect([s.cancelled, s.removed, s.remaining, s.done]).toEqual([true, 3, 0, 0]);
  });
});
