// A segment: which leads of a bot a scheduled action reaches (pipeline stages, a score range, idle for
// N days). Channel-neutral: the WhatsApp follow-up and the e-mail enrolment each add the condition
// that a lead can be reached on their channel.
import { sql, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';

/** The most leads one firing reaches; the rest wait for the next firing (see docs/schedules.md). */
export const SEGMENT_MAX_LEADS = 10_000;

/** The tag that keeps a lead out of every WhatsApp follow-up (set by a scoring rule or the API). */
export const WHATSAPP_OPT_OUT_TAG = 'opt-out';

export const leadSegmentSchema = z.strictObject({
  stageIds: z.array(z.uuid()).min(1).max(50).optional().describe('Only leads in one of these pipeline stages.'),
  minScore: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  maxScore: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  idleDays: z.number().int().min(1).max(3650).optional().describe('Only leads with no message either way for this many days.'),
}).refine((segment) => segment.minScore === undefined || segment.maxScore === undefined || segment.minScore <= segment.maxScore,
  { message: 'minScore must not be above maxScore', path: ['maxScore'] });

export type LeadSegment = z.infer<typeof leadSegmentSchema>;

export type SegmentChannel = 'whatsapp' | 'email';

/** How a lead is reached on a channel; a lead that cannot be is never matched. */
const reachableOn = (channel: SegmentChannel): FragmentSqlToken => channel === 'whatsapp'
  // Its JID is known (phone or lid), and it did not opt out.
  ? sql.fragment`(l.phone_e164 IS NOT NULL OR l.lid IS NOT NULL) AND NOT (${WHATSAPP_OPT_OUT_TAG} = ANY (l.tags))`
  : sql.fragment`l.email IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM email_suppressions s WHERE s.tenant_id = l.tenant_id AND s.address = lower(l.email))`;

/** Silent on both sides since the cutoff: the stored last inbound time, then any message since (the outbound ones too). */
const idleSince = (cutoff: FragmentSqlToken): FragmentSqlToken => sql.fragment`
  coalesce(l.last_message_at, l.created_at) < ${cutoff}
  AND NOT EXISTS (SELECT 1 FROM lead_messages m WHERE m.tenant_id = l.tenant_id AND m.lead_id = l.id AND m.created_at >= ${cutoff})`;

/**
 * `FROM leads l WHERE ...`: the segment's leads of one bot, reachable on the channel. Only the
 * conditions the segment names are in the query, so each plan uses the index that fits.
 */
export const segmentLeadsFrom = (input: { tenantId: string; botId: string; segment: LeadSegment; channel: SegmentChannel }): FragmentSqlToken => {
  const { segment } = input;
  const conditions: FragmentSqlToken[] = [
    sql.fragment`l.tenant_id = ${input.tenantId}`,
    sql.fragment`l.bot_id = ${input.botId}`,
    reachableOn(input.channel),
  ];
  if (segment.stageIds !== undefined) conditions.push(sql.fragment`l.stage_id = ANY (${sql.array(segment.stageIds, 'uuid')})`);
  if (segment.minScore !== undefined) conditions.push(sql.fragment`l.score >= ${segment.minScore}`);
  if (segment.maxScore !== undefined) conditions.push(sql.fragment`l.score <= ${segment.maxScore}`);
  if (segment.idleDays !== undefined) conditions.push(idleSince(sql.fragment`now() - make_interval(days => ${segment.idleDays}::int)`));
  return sql.fragment`FROM leads l WHERE ${sql.join(conditions, sql.fragment` AND `)}`;
};

/** Longest silent first: a segment over the cap reaches those it has waited on longest. */
export const SEGMENT_ORDER = sql.fragment`ORDER BY coalesce(l.last_message_at, l.created_at), l.id`;
