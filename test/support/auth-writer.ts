// Writes Baileys auth state as fast as it can, the way a live session does (creds updates and
// batches of signal keys), until it is killed. Usage: node auth-writer.ts <session dir>
import { randomBytes } from 'node:crypto';
import { openAuthStore } from '../../bot-pods/auth-store.ts';

const store = await openAuthStore(process.argv[2]!);
process.stdout.write('writing\n');
for (let round = 0; ; round += 1) {
  store.state.creds.nextPreKeyId = round;
  store.state.creds.advSecretKey = randomBytes(32).toString('base64');
  const preKeys = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [
    String(round * 10 + i), { public: randomBytes(32), private: randomBytes(32) },
  ]));
  await Promise.all([
    store.saveCreds(),
    store.state.keys.set({ 'pre-key': preKeys, session: { [`5511${round % 50}.0`]: randomBytes(200) } }),
  ]);
}
