// The baseline of the lead-list benchmark: a bare Express route answering a page of 50 leads of
// the same shape from memory (no auth, no database). Usage: node bench/bare-express.ts <port>
import express from 'express';

const page = {
  items: Array.from({ length: 50 }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, botId: '00000000-0000-4000-8000-000000000001', waId: `551190000${String(i).padStart(4, '0')}`,
    phoneE164: `+551190000${String(i).padStart(4, '0')}`, name: `Lead ${i}`, email: `lead${i}@example.com`, company: 'Acme', score: i, isQualified: i > 30,
    tags: ['pricing'], stageId: null, ownerUserId: null, assignedToUserId: null, createdAt: new Date(0).toISOString(), lastMessageAt: null,
  })),
  nextCursor: '1790000000000000.00000000-0000-4000-8000-000000000049',
};
const app = express();
app.get('/bare', (_request, response) => { response.json(page); });
app.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('bare express ready\n'));
