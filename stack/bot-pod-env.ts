// A bot pod gets no database credentials: it asks the platform for what it needs through Temporal,
// so a compromised pod holds no key to any tenant's rows.
import { variables } from '../core/config.ts';

/** Every database URL variable, present or future (DATABASE_URL, DATABASE_MAINTENANCE_URL, ...). */
export const DATABASE_VARIABLES: readonly string[] = Object.keys(variables).filter((name) => name.startsWith('DATABASE_'));

/**
 * Environment additions for a bot pod's process: its own variables, and every database variable
 * unset (undefined: child_process.spawn leaves it out of the inherited environment).
 */
export const botPodEnvironment = (podVariables: Record<string, string>): Record<string, string | undefined> => ({
  ...Object.fromEntries(DATABASE_VARIABLES.map((name) => [name, undefined])),
  ...podVariables,
});
