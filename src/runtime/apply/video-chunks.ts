/**
 * Video in pieces, for work spread over many processes: stylise a range of frames into a lossless
 * chunk, then join the chunks into the final video. The join decodes the chunks and runs the same
 * H.264 encoder as `stylizeVideo` on the same frames, so a video made in chunks equals the one made
 * in one piece byte for byte (a stream copy of separately encoded H.264 chunks would not: each
 * chunk would start its own group of pictures and rate control).
 */
import { spawnSync } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../../util/errors.ts';
import type { Rgb8 } from './tiling.ts';
import { decodeArgs, evenFit, formatFor, h264Args, pipeFrames, probeVideo, requireFfmpeg } from './video.ts';

/** Frames in a video's first video stream, counted by reading its packets (container headers can be wrong). */
export function countFrames(path: string): number {
  requireFfmpeg();
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  if (r.error || r.status !== 0 || !Number.isInteger(n)) throw new UserError(`cannot count the frames of ${path}: ${r.stderr || r.error?.message || r.stdout}`);
  return n;
}

/** `30000/1001` -> 29.97… */
export function rateValue(rate: string): number {
  const [a, b] = rate.split('/').map(Number);
  const v = b === undefined ? a! : a! / b;
  if (!(v > 0) || !Number.isFinite(v)) throw new UserError(`cannot read the frame rate '${rate}'`);
  return v;
}

/**
 * Input seek time that starts decoding exactly at frame `start` of a constant-rate video: half a
 * frame before it, so rounding of the decimal time can neither drop frame `start` nor keep `start − 1`.
 */
export function seekSeconds(start: number, rate: string): number {
  return start === 0 ? 0 : (start - 0.5) / rateValue(rate);
}

export interface RangeOptions {
  readonly start: number;
  readonly frames: number;
  readonly maxSize?: number;
}

/** Stylise frames [start, start + frames) into `output`, a lossless (FFV1, Matroska) chunk without audio. Written atomically. */
export async function stylizeVideoRange(input: string, output: string, stylize: (frame: Rgb8) => Promise<Rgb8>, opts: RangeOptions): Promise<number> {
  requireFfmpeg();
  const info = probeVideo(input);
  const { width, height } = evenFit(info, opts.maxSize);
  const partial = join(dirname(output), `.tmp-${process.pid}-${basename(output)}`);
  const seek = opts.start > 0 ? ['-ss', seekSeconds(opts.start, info.rate).toFixed(6)] : [];
  const encode = ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', info.rate, '-i', '-', '-c:v', 'ffv1', '-pix_fmt', 'bgr0', '-f', 'matroska', partial];
  // passthrough: after a seek the first frame's time is not 0, and a constant-rate output would repeat it to fill the gap
  const r = await pipeFrames(decodeArgs(input, width, height, seek, ['-fps_mode', 'passthrough', '-frames:v', String(opts.frames)]), encode, width, height, stylize);
  if (r.decodeStatus !== 0 || r.encodeStatus !== 0 || r.frames !== opts.frames) {
    await rm(partial, { force: true });
    if (r.decodeStatus !== 0) throw new UserError(`ffmpeg could not decode ${input}: ${r.decodeErr.trim()}`);
    if (r.encodeStatus !== 0) throw new UserError(`ffmpeg could not encode ${output}: ${r.encodeErr.trim()}`);
    throw new UserError(`${input} has ${r.frames} frames from frame ${opts.start}, not the ${opts.frames} planned`);
  }
  await rename(partial, output);
  return r.frames;
}

/** Join lossless chunks, in order, into `output` (H.264 as `stylizeVideo` writes it) with the audio of `audioFrom`. Written atomically. */
export async function concatVideo(chunks: readonly string[], audioFrom: string, output: string): Promise<number> {
  requireFfmpeg();
  if (chunks.length === 0) throw new Error('concatVideo: no chunks');
  const format = formatFor(output);
  const info = probeVideo(audioFrom);
  const { width, height } = evenFit(probeVideo(chunks[0]!));
  const list = join(dirname(output), `.tmp-${process.pid}-${basename(output)}.concat.txt`);
  const partial = join(dirname(output), `.tmp-${process.pid}-${basename(output)}`);
  // the concat demuxer's quoting: a single quote inside a name is written '\''
  await writeFile(list, chunks.map((c) => `file '${resolve(c).replaceAll("'", "'\\''")}'\n`).join(''));
  try {
    const r = await pipeFrames(decodeArgs(list, width, height, ['-f', 'concat', '-safe', '0']), h264Args(width, height, info.rate, audioFrom, format, partial), width, height, async (f) => f);
    if (r.decodeStatus !== 0 || r.encodeStatus !== 0) {
      await rm(partial, { force: true });
      throw new UserError(r.decodeStatus !== 0 ? `ffmpeg could not read the chunks of ${output}: ${r.decodeErr.trim()}` : `ffmpeg could not encode ${output}: ${r.encodeErr.trim()}`);
    }
    await rename(partial, output);
    return r.frames;
  } finally {
    await rm(list, { force: true });
  }
}
