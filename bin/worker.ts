import { startProcess } from './process';

// Procfile `worker:`: robots only.
startProcess({ web: false, worker: true }).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
