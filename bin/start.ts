import { startProcess } from './process';

// `npm start`: web and worker in one process (small installations, development).
startProcess({ web: true, worker: true }).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
