// The remote floor's activity worker: the no-op activity alone, in its own process and on its own
// task queue, as a bot pod serves sendText. Run by bench/run.ts as a child process with an IPC channel.
import { Worker } from '@temporalio/worker';
import { loadConfigOrExit } from '../../core/config.ts';
import { connectTemporalWorker } from '../../core/temporal/client.ts';
import { createFloorActivities, FLOOR_REMOTE_TASK_QUEUE } from './activities.ts';

const config = loadConfigOrExit();
const { connection, namespace } = await connectTemporalWorker(config.temporal);
const worker = await Worker.create({
  connection,
  namespace,
  taskQueue: FLOOR_REMOTE_TASK_QUEUE,
  activities: createFloorActivities((key, at) => process.send!({ key, at })),
});
process.stdout.write('floor activity worker ready\n');
await worker.run();
await connection.close();
