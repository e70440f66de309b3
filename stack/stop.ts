// `npm run stack:stop`: stops a local stack left running (for example after a killed `npm start`).
import { loadConfigOrExit } from '../core/config.ts';
import { stopStack } from './harness.ts';

await stopStack(loadConfigOrExit());
process.stdout.write('[stack] stopped\n');
