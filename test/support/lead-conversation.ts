// What the lead conversation tests read back: a lead's recorded replies, and the local activities
// a workflow run completed (from the markers in its history).
import type proto from '@temporalio/proto';
import { sql } from 'slonik';
import { z } from 'zod';
import type { WithTenant } from '../../core/db/with-tenant.ts';
import type { TenantGraph } from './tenant-fixture.ts';

/** The lead's recorded replies (their WhatsApp ids), oldest first. */
export const recordedReplies = (withTenant: WithTenant, graph: TenantGraph, waId: string): Promise<readonly string[]> =>
  withTenant(graph.tenantId, (tx) => tx.anyFirst(sql.type(z.object({ wa_message_id: z.string() }))`
    SELECT m.wa_message_id FROM lead_messages m JOIN leads l ON l.tenant_id = m.tenant_id AND l.id = m.lead_id
    WHERE l.bot_id = ${graph.botId} AND l.wa_id = ${waId} AND m.direction = 'outbound' ORDER BY m.created_at, m.id`));

/** The local activities a run completed, in order, from their markers. */
export const localActivitiesOf = (events: readonly proto.temporal.api.history.v1.IHistoryEvent[]): string[] => events.flatMap((event) => {
  const marker = event.markerRecordedEventAttributes;
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.['data']?.payloads?.[0]?.data : undefined;
  return data ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type] : [];
});
