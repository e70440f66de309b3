// Worker of the engine floor, run by bench/run.ts as a child process with an IPC channel.
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { loadConfigOrExit } from '../../core/config.ts';
import { connectTemporalWorker } from '../../core/temporal/client.ts';
import { createFloorActivities, FLOOR_TASK_QUEUE } from './activities.ts';

const config = loadConfigOrExit();
const { connection, namespace } = await connectTemporalWorker(config.temporal);
const worker = await Worker.create({
  connection,
  namespace,
  taskQueue: FLOOR_TASK_QUEUE,
  workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
  activities: createFloorActivities((key, at) => process.send!({ key, at })),
});
process.stdout.write('floor worker ready\n');
await worker.run();
await connection.close();
