// Pipelines and their stages. Reordering rewrites every position in one transaction (the unique
// position constraint is deferred to commit); moving a lead records a stage event.
import { sql } from 'slonik';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';
import type { Registry } from '../route.ts';
import { leadParams, nameText, tenantParams } from './schemas.ts';
import { patchBody, updateAudited } from './update-row.ts';

const stage = z.object({ id: z.uuid(), name: z.string(), position: z.number().int(), isQualifiedStage: z.boolean() });
const pipeline = z.object({ id: z.uuid(), name: z.string(), isDefault: z.boolean(), stages: z.array(stage) });
const pipelineRow = z.object({ id: z.uuid(), name: z.string(), is_default: z.boolean() });
const stageRow = z.object({ id: z.uuid(), pipeline_id: z.uuid(), name: z.string(), position: z.number(), is_qualified_stage: z.boolean() });
const pipelineParams = z.strictObject({ tenantId: z.uuid(), pipelineId: z.uuid() });
const pipelineName = nameText(200);

export const registerPipelineRoutes = (registry: Registry, deps: ApiDeps) => {
  const readPipelines = (tenantId: string, onlyId?: string) => deps.withTenant(tenantId, async (tx) => {
    const pipelines = await tx.any(sql.type(pipelineRow)`
      SELECT id, name, is_default FROM pipelines WHERE tenant_id = ${tenantId} ${onlyId ? sql.fragment`AND id = ${onlyId}` : sql.fragment``} ORDER BY created_at, id`);
    const stages = await tx.any(sql.type(stageRow)`
      SELECT id, pipeline_id, name, position, is_qualified_stage FROM pipeline_stages WHERE tenant_id = ${tenantId} ORDER BY position`);
    return pipelines.map((row) => ({
      id: row.id, name: row.name, isDefault: row.is_default,
      stages: stages.filter((s) => s.pipeline_id === row.id).map((s) => ({ id: s.id, name: s.name, position: s.position, isQualifiedStage: s.is_qualified_stage })),
    }));
  });

  registry.add({
    method: 'get', path: '/tenants/:tenantId/pipelines', summary: 'List pipelines with their stages', tag: 'pipelines', access: 'any',
    params: tenantParams, response: z.object({ items: z.array(pipeline) }),
  }, async ({ params }) => ({ items: await readPipelines(params.tenantId) }));

  registry.add({
    method: 'post', path: '/tenants/:tenantId/pipelines', summary: 'Create a pipeline with its stages', tag: 'pipelines', access: 'any',
    params: tenantParams, status: 201,
    body: z.strictObject({
      name: pipelineName,
      isDefault: z.boolean().default(false),
      stages: z.array(z.strictObject({ name: nameText(200), isQualifiedStage: z.boolean().default(false) })).min(1).max(50),
    }),
    response: pipeline,
  }, async ({ request, params, body }) => {
    const id = await deps.withTenant(params.tenantId, async (tx) => {
      if (body.isDefault) await tx.query(sql.unsafe`UPDATE pipelines SET is_default = false WHERE tenant_id = ${params.tenantId} AND is_default`);
      const pipelineId = await tx.oneFirst(sql.type(z.object({ id: z.uuid() }))`
        INSERT INTO pipelines (tenant_id, name, is_default) VALUES (${params.tenantId}, ${body.name}, ${body.isDefault}) RETURNING id`);
      for (const [position, entry] of body.stages.entries()) {
        await tx.query(sql.unsafe`INSERT INTO pipeline_stages (tenant_id, pipeline_id, name, position, is_qualified_stage)
          VALUES (${params.tenantId}, ${pipelineId}, ${entry.name}, ${position}, ${entry.isQualifiedStage})`);
      }
      return pipelineId;
    }, { actor: `api:${request.principal!.tokenId}` });
    return (await readPipelines(params.tenantId, id))[0]!;
  });

  registry.add({
    method: 'patch', path: '/tenants/:tenantId/pipelines/:pipelineId', summary: 'Rename a pipeline', tag: 'pipelines', access: 'any',
    params: pipelineParams, body: patchBody({ name: pipelineName }), response: pipeline,
  }, async ({ request, params, body }) => {
    const actor = `api:${request.principal!.tokenId}`;
    await deps.withTenant(params.tenantId, (tx) => updateAudited(tx, {
      tenantId: params.tenantId, actor, action: 'pipeline.updated', subject: { pipelineId: params.pipelineId }, what: 'pipeline',
      table: 'pipelines', row: pipelineRow, columns: sql.fragment`id, name, is_default`,
      where: sql.fragment`tenant_id = ${params.tenantId} AND id = ${params.pipelineId}`,
      body, fieldColumns: { name: 'name' }, view: (found) => ({ name: found.name }),
    }), { actor });
    return (await readPipelines(params.tenantId, params.pipelineId))[0]!;
  });

  registry.add({
    method: 'put', path: '/tenants/:tenantId/pipelines/:pipelineId/stage-order', summary: 'Reorder a pipeline\'s stages (all of them, in one transaction)',
    tag: 'pipelines', access: 'any', params: pipelineParams,
    body: z.strictObject({ stageIds: z.array(z.uuid()).min(1).max(50) }), response: pipeline,
  }, async ({ request, params, body }) => {
    await deps.withTenant(params.tenantId, async (tx) => {
      const current = await tx.anyFirst(sql.type(z.object({ id: z.uuid() }))`
        SELECT id FROM pipeline_stages WHERE tenant_id = ${params.tenantId} AND pipeline_id = ${params.pipelineId}`);
      if (current.length === 0) throw new HttpProblem(404, 'Not found', 'no such pipeline');
      const same = current.length === body.stageIds.length && new Set(body.stageIds).size === body.stageIds.length && body.stageIds.every((id) => current.includes(id));
      if (!same) throw new HttpProblem(422, 'Not a reordering', 'stageIds must list every stage of the pipeline exactly once');
      for (const [position, stageId] of body.stageIds.entries()) {
        await tx.query(sql.unsafe`UPDATE pipeline_stages SET position = ${position} WHERE tenant_id = ${params.tenantId} AND id = ${stageId}`);
      }
    }, { actor: `api:${request.principal!.tokenId}` });
    return (await readPipelines(params.tenantId, params.pipelineId))[0]!;
  });

  registry.add({
    method: 'delete', path: '/tenants/:tenantId/pipelines/:pipelineId', summary: 'Delete a pipeline without leads, with its stages', tag: 'pipelines',
    access: 'any', params: pipelineParams,
    response: z.object({ pipelineId: z.uuid(), deleted: z.object({ stages: z.number() }), stageHistoryKept: z.number() }),
  }, async ({ request, params }) => deps.withTenant(params.tenantId, async (tx) => {
    const counts = await tx.maybeOne(sql.type(z.object({ leads: z.number(), stages: z.number(), history: z.number() }))`
      SELECT (SELECT count(*)::int FROM leads WHERE tenant_id = p.tenant_id AND pipeline_id = p.id) AS leads,
             (SELECT count(*)::int FROM pipeline_stages WHERE tenant_id = p.tenant_id AND pipeline_id = p.id) AS stages,
             (SELECT count(*)::int FROM lead_stage_events e JOIN pipeline_stages s ON s.tenant_id = e.tenant_id AND s.id IN (e.from_stage_id, e.to_stage_id)
               WHERE s.tenant_id = p.tenant_id AND s.pipeline_id = p.id) AS history
      FROM pipelines p WHERE p.tenant_id = ${params.tenantId} AND p.id = ${params.pipelineId} FOR UPDATE`);
    if (!counts) throw new HttpProblem(404, 'Not found', 'no such pipeline');
    // Leads are never deleted with a pipeline (ON DELETE NO ACTION): they must be moved first.
    if (counts.leads > 0) throw new HttpProblem(409, 'Pipeline in use', `${counts.leads} leads are in this pipeline; move them to another one first`, { leads: counts.leads });
    await tx.query(sql.unsafe`DELETE FROM pipelines WHERE tenant_id = ${params.tenantId} AND id = ${params.pipelineId}`);
    // Stage history stays, its stage references cleared (ON DELETE SET NULL).
    return { pipelineId: params.pipelineId, deleted: { stages: counts.stages }, stageHistoryKept: counts.history };
  }, { actor: `api:${request.principal!.tokenId}` }));

  registry.add({
    method: 'put', path: '/tenants/:tenantId/leads/:leadId/stage', summary: 'Move a lead to a stage', tag: 'leads', access: 'any', params: leadParams,
    body: z.strictObject({ stageId: z.uuid(), reason: z.string().max(500).optional() }),
    response: z.object({ leadId: z.uuid(), fromStageId: z.uuid().nullable(), toStageId: z.uuid() }),
  }, async ({ request, params, body }) => deps.withTenant(params.tenantId, async (tx) => {
    const lead = await tx.maybeOne(sql.type(z.object({ stage_id: z.uuid().nullable() }))`
      SELECT stage_id FROM leads WHERE tenant_id = ${params.tenantId} AND id = ${params.leadId} FOR UPDATE`);
    if (!lead) throw new HttpProblem(404, 'Not found', 'no such lead');
    const target = await tx.maybeOne(sql.type(z.object({ pipeline_id: z.uuid() }))`
      SELECT pipeline_id FROM pipeline_stages WHERE tenant_id = ${params.tenantId} AND id = ${body.stageId}`);
    if (!target) throw new HttpProblem(422, 'No such stage', `stage ${body.stageId} is not a stage of this tenant`);
    if (lead.stage_id !== body.stageId) {
      await tx.query(sql.unsafe`UPDATE leads SET pipeline_id = ${target.pipeline_id}, stage_id = ${body.stageId} WHERE tenant_id = ${params.tenantId} AND id = ${params.leadId}`);
      await tx.query(sql.unsafe`INSERT INTO lead_stage_events (tenant_id, lead_id, from_stage_id, to_stage_id, reason)
        VALUES (${params.tenantId}, ${params.leadId}, ${lead.stage_id}, ${body.stageId}, ${body.reason ?? 'moved by an admin'})`);
    }
    return { leadId: params.leadId, fromStageId: lead.stage_id, toStageId: body.stageId };
  }, { actor: `api:${request.principal!.tokenId}` }));
};
