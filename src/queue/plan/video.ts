/**
 * A video: one task per `framesPerTask` frames (ffmpeg -ss/-frames), each writing a lossless chunk,
 * and a final task that joins the chunks and copies the audio (runtime/apply/video-chunks.ts).
 */
import { basename, dirname, join } from 'node:path';
import { countFrames } from '../../runtime/apply/video-chunks.ts';
import { formatFor, probeVideo } from '../../runtime/apply/video.ts';
import { UserError } from '../../util/errors.ts';
import { taskHeader, taskName } from '../format.ts';
import { sha256Json } from '../hash.ts';
import type { Storage } from '../storage.ts';
import type { ApplyOptions, JobPlan, VideoChunkTask, VideoConcatTask } from '../types.ts';
import { fileRef } from './apply.ts';

export interface VideoJobInput {
  readonly model: string;
  readonly input: string;
  readonly output: string;
  readonly framesPerTask: number;
  readonly options: ApplyOptions;
}

/** Chunks of a job live beside the output, in a folder named by the job, until the final task joins them. */
export const chunkDir = (output: string, jobId: string): string => join(dirname(output), `.stc-chunks-${jobId}-${basename(output)}`);

export async function planVideo(storage: Storage, inp: VideoJobInput): Promise<JobPlan> {
  if (!Number.isInteger(inp.framesPerTask) || inp.framesPerTask < 1) throw new UserError(`frames per task must be a positive integer, got ${inp.framesPerTask}`);
  formatFor(inp.output);
  const model = await fileRef(storage, inp.model);
  const input = await fileRef(storage, inp.input);
  const { rate } = probeVideo(inp.input);
  const total = countFrames(inp.input);
  if (total === 0) throw new UserError(`${inp.input} has no frames`);
  const output = storage.rel(inp.output);
  const id = sha256Json({ kind: 'video', model, input, output, framesPerTask: inp.framesPerTask, options: inp.options }).slice(0, 16);
  const dir = chunkDir(output, id);
  const tasks: VideoChunkTask[] = [];
  for (let i = 0, start = 0; start < total; i++, start += inp.framesPerTask) {
    const frames = Math.min(inp.framesPerTask, total - start);
    const header = taskHeader(id, taskName('chunk', i), storage.url, frames);
    tasks.push({ ...header, kind: 'video-chunk', model, input, start, frames, rate, output: `${dir}/${header.name}.mkv`, options: inp.options });
  }
  const final: VideoConcatTask = { ...taskHeader(id, 'concat', storage.url, 0), kind: 'video-concat', input, chunks: tasks.map((t) => t.output), rate, output };
  return { id, kind: 'video', root: storage.url, summary: `video ${input.path} (${total} frames at ${rate} fps) with ${model.path} -> ${output}`, tasks, final };
}
