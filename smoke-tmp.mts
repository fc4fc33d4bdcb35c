const t0 = Date.now();
const { startWorker } = await import('./src/queue/worker.ts');
console.error('imported', Date.now() - t0);
const h = await startWorker({ redis: 'redis://127.0.0.1:6423', threads: 1, onEvent: (e) => console.error(Date.now() - t0, JSON.stringify(e)) });
await new Promise((r) => setTimeout(r, 5000));
process.exit(0);
