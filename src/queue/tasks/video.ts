/** Runs a video's tasks: stylise a frame range into a lossless chunk; join the chunks with the audio. */
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stylizeImage } from '../../runtime/apply/stylize.ts';
import { concatVideo, stylizeVideoRange } from '../../runtime/apply/video-chunks.ts';
import { UserError } from '../../util/errors.ts';
import type { VideoChunkTask, VideoConcatTask } from '../types.ts';
import type { TaskContext } from './context.ts';

export async function runVideoChunkTask(task: VideoChunkTask, ctx: TaskContext): Promise<{ outputs: string[] }> {
  const storage = ctx.storage(task.root);
  const model = await ctx.models.get(storage, task.model);
  const input = await ctx.checked(storage, task.input);
  const output = storage.local(task.output);
  await mkdir(dirname(output), { recursive: true });
  const { tile, overlap, maxSize } = task.options;
  let done = 0;
  await stylizeVideoRange(
    input,
    output,
    async (frame) => {
      const out = await stylizeImage(model.run, frame, { ...(tile !== undefined && { tile }), ...(overlap !== undefined && { overlap }) });
      ctx.progress(++done);
      return out;
    },
    { start: task.start, frames: task.frames, ...(maxSize !== undefined && { maxSize }) },
  );
  return { outputs: [task.output] };
}

const exists = (p: string) => stat(p).then(() => true, () => false);

export async function runVideoConcatTask(task: VideoConcatTask, ctx: TaskContext): Promise<{ outputs: string[] }> {
  const storage = ctx.storage(task.root);
  const output = storage.local(task.output);
  const chunks = task.chunks.map((c) => storage.local(c));
  const present = await Promise.all(chunks.map(exists));
  // a run killed after the rename but before the chunks were removed: the output is already complete
  if (present.every((p) => !p) && (await exists(output))) return { outputs: [task.output] };
  const missing = task.chunks.filter((_, i) => !present[i]);
  if (missing.length) throw new UserError(`cannot join ${task.output}: chunk(s) ${missing.join(', ')} vanished`);
  const input = await ctx.checked(storage, task.input);
  await concatVideo(chunks, input, output);
  await rm(dirname(chunks[0]!), { recursive: true, force: true });
  return { outputs: [task.output] };
}
