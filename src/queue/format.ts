/**
 * The task format's version and the queue's names. A task carries the format it was written in;
 * a worker refuses a task from a newer format (a newer stc submitted it) instead of misreading it.
 * Bump TASK_FORMAT whenever a task's fields change meaning.
 */
export const TASK_FORMAT = 1;

/** The BullMQ queue every stc task goes through. */
export const QUEUE_NAME = 'stc';

/** Redis key of a job's record (kind, task ids, submission time): `stc:job:<id>`. */
export const jobKey = (jobId: string): string => `stc:job:${jobId}`;

/** BullMQ job id of one task: the job's content hash and the task's name. */
export const taskId = (jobId: string, name: string): string => `${jobId}-${name}`;

/** Zero-padded task names sort in submission order. */
export const taskName = (prefix: string, i: number): string => `${prefix}${String(i).padStart(5, '0')}`;

/** The fields every task starts with: the format it is written in, its job, name, storage root and units. */
export const taskHeader = (job: string, name: string, root: string, units: number) => ({ format: TASK_FORMAT, job, name, root, units }) as const;
