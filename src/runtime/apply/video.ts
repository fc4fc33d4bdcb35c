/**
 * Video through ffmpeg: frames are decoded to a raw rgb24 pipe, stylised one by one, and
 * piped raw into an encoder (H.264, yuv420p; the source's audio is copied when present).
 */
import { spawn, spawnSync } from 'node:child_process';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { UserError } from '../../util/errors.ts';
import type { Rgb8 } from './tiling.ts';
import { fitWithin } from './io.ts';

export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set(['.mp4', '.mov', '.mkv', '.webm', '.avi', '.m4v']);

/** Whether ffmpeg and ffprobe run; `bin` overrides the ffmpeg path (tests). */
export function ffmpegAvailable(bin = 'ffmpeg'): boolean {
  const r = spawnSync(bin, ['-version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

export function requireFfmpeg(bin = 'ffmpeg'): void {
  if (!ffmpegAvailable(bin))
    throw new UserError('video input needs ffmpeg, which was not found on PATH; install it (Debian/Ubuntu: apt-get install ffmpeg) or pass frames as a folder of images');
}

export interface VideoInfo {
  readonly width: number;
  readonly height: number;
  /** Frame rate as ffmpeg writes it (`30000/1001`). */
  readonly rate: string;
}

export function probeVideo(path: string): VideoInfo {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,r_frame_rate', '-of', 'json', path], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new UserError(`cannot read video ${path}: ${r.stderr || r.error?.message}`);
  const s = (JSON.parse(r.stdout) as { streams?: { width: number; height: number; r_frame_rate: string }[] }).streams?.[0];
  if (!s) throw new UserError(`${path} has no video stream`);
  return { width: s.width, height: s.height, rate: s.r_frame_rate };
}

export interface VideoOptions {
  readonly maxSize?: number;
  readonly onFrame?: (frame: number) => void;
}

export async function stylizeVideo(input: string, output: string, stylize: (frame: Rgb8) => Promise<Rgb8>, opts: VideoOptions = {}): Promise<number> {
  requireFfmpeg();
  const format = formatFor(output);
  const info = probeVideo(input);
  const { width, height } = evenFit(info, opts.maxSize);
  // Encode into a temp file beside the output and rename on success: no half-written video is left behind.
  const partial = join(dirname(output), `.tmp-${process.pid}-${basename(output)}`);
  const r = await pipeFrames(decodeArgs(input, width, height), h264Args(width, height, info.rate, input, format, partial), width, height, stylize, opts.onFrame);
  if (r.decodeStatus !== 0 || r.encodeStatus !== 0) {
    await rm(partial, { force: true });
    if (r.decodeStatus !== 0) throw new UserError(`ffmpeg could not decode ${input}: ${r.decodeErr.trim()}`);
    throw new UserError(`ffmpeg could not encode ${output}: ${r.encodeErr.trim()}`);
  }
  await rename(partial, output);
  return r.frames;
}

/** The frame size a video is stylised at: fitted within maxSize, rounded down to even sides (yuv420p needs them). */
export function evenFit(info: VideoInfo, maxSize?: number): { width: number; height: number } {
  const { width, height } = fitWithin(info.width, info.height, maxSize);
  return { width: width - (width % 2), height: height - (height % 2) };
}

/** ffmpeg arguments decoding a video's frames, scaled to width × height, as raw rgb24 on stdout. */
export function decodeArgs(input: string, width: number, height: number, inputOptions: readonly string[] = [], outputOptions: readonly string[] = []): string[] {
  return ['-v', 'error', ...inputOptions, '-i', input, '-vf', `scale=${width}:${height}`, ...outputOptions, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
}

/** ffmpeg arguments encoding raw rgb24 frames from stdin to H.264 (yuv420p), with the audio of `audioFrom` copied when it has any. */
export function h264Args(width: number, height: number, rate: string, audioFrom: string, format: string, output: string): string[] {
  return ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', rate, '-i', '-', '-i', audioFrom, '-map', '0:v', '-map', '1:a?', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'copy', '-f', format, output];
}

export interface PipeResult {
  readonly frames: number;
  readonly decodeStatus: number | null;
  readonly encodeStatus: number | null;
  readonly decodeErr: string;
  readonly encodeErr: string;
}

/** Run a decoder and an encoder, passing every raw rgb24 frame through `transform`, one frame in memory at a time. */
export async function pipeFrames(
  decode: readonly string[],
  encode: readonly string[],
  width: number,
  height: number,
  transform: (frame: Rgb8) => Promise<Rgb8>,
  onFrame?: (frame: number) => void,
): Promise<PipeResult> {
  const dec = spawn('ffmpeg', decode, { stdio: ['ignore', 'pipe', 'pipe'] });
  const enc = spawn('ffmpeg', encode, { stdio: ['pipe', 'ignore', 'pipe'] });
  let decodeErr = '';
  let encodeErr = '';
  dec.stderr.on('data', (d: Buffer) => (decodeErr += d.toString()));
  enc.stderr.on('data', (d: Buffer) => (encodeErr += d.toString()));
  // an encoder that exits early must not crash the process with EPIPE: its status reports it
  enc.stdin.on('error', () => undefined);
  const encDone = new Promise<number | null>((res) => enc.on('close', res));
  const decDone = new Promise<number | null>((res) => dec.on('close', res));
  const frameBytes = 3 * width * height;
  let pending: Buffer = Buffer.alloc(0);
  let frames = 0;
  for await (const chunk of dec.stdout as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= frameBytes) {
      const frame: Rgb8 = { width, height, data: new Uint8Array(pending.subarray(0, frameBytes)) };
      pending = pending.subarray(frameBytes);
      const out = await transform(frame);
      if (!enc.stdin.write(out.data)) await new Promise((res) => enc.stdin.once('drain', res));
      frames++; // not inside onFrame?.(…): optional calls skip evaluating their arguments
      onFrame?.(frames);
    }
  }
  enc.stdin.end();
  const [decodeStatus, encodeStatus] = await Promise.all([decDone, encDone]);
  return { frames, decodeStatus, encodeStatus, decodeErr, encodeErr };
}

/** ffmpeg muxer for an output path (the temp name hides the extension from ffmpeg's own guess). H.264 only, so no .webm. */
export function formatFor(output: string): string {
  const ext = extname(output).toLowerCase();
  const muxers: Record<string, string> = { '.mp4': 'mp4', '.m4v': 'mp4', '.mov': 'mov', '.mkv': 'matroska', '.avi': 'avi' };
  const f = muxers[ext];
  if (!f) throw new UserError(`video output must end in ${Object.keys(muxers).join(', ')}, got '${output}'`);
  return f;
}
