/**
 * A budget of this process's CPU time, as an AbortSignal: for comparisons that must be fair on a machine shared
 * with other jobs, where a wall-clock budget gives a run less work whenever the load rises.
 *
 * process.cpuUsage() is getrusage(RUSAGE_SELF): user + system time of every thread of the process, so ONNX
 * Runtime's intra-op pool threads count as well as the JS thread (checked on this machine: a 2-thread ORT
 * MatMul loop's cpuUsage equalled the sum of its threads' /proc/self/task/<tid>/stat times, about half of it off
 * the main thread). Work outside the process (child processes) is not counted.
 */

/** CPU seconds used by this process so far (all threads, user + system). */
export function cpuSeconds(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

export interface CpuBudget {
  /** Aborted (reason: a TimeoutError-like DOMException) once the budget is spent. */
  readonly signal: AbortSignal;
  /** CPU seconds used since the budget started. */
  used(): number;
  /** Wall seconds since the budget started. */
  wall(): number;
  /** Stop polling (the signal stays as it is). */
  dispose(): void;
}

/**
 * A budget of `seconds` of CPU time from now, checked every `pollMs` ms of wall time. The check runs on the event
 * loop, so it fires at the first poll after the budget is spent and the loop is free: a consumer that checks
 * the signal between iterations stops at the first iteration that ends after that.
 */
export function cpuBudget(seconds: number, pollMs = 200): CpuBudget {
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const controller = new AbortController();
  const used = (): number => cpuSeconds() - c0;
  const timer = setInterval(() => {
    if (used() < seconds) return;
    controller.abort(new DOMException(`CPU budget of ${seconds} s spent`, 'TimeoutError'));
    clearInterval(timer);
  }, pollMs);
  timer.unref();
  return { signal: controller.signal, used, wall: () => (performance.now() - t0) / 1000, dispose: () => clearInterval(timer) };
}
