import { startProcess } from './process';

// Procfile `web:`: the HTTP edge only.
startProcess({ web: true, worker: false }).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
