// Every workflow the platform worker registers. Deterministic code only: see eslint.config.js.
export { changeQualificationThreshold } from './qualification-threshold.ts';
export { leadConversation } from './lead-conversation.ts';
export { ownerNotification, testOwnerWebhook } from './owner-notification.ts';
export { platformSelfCheck } from './self-check.ts';
export { podActiveBots } from './pod-bots.ts';
export { readBotStatus, restoreTenantSessions, snapshotTenantSessions } from './bot-pod.ts';
export { logoutBotSession, recordBotSessionEvents, requestBotPairingCode, restartBotConnection } from './bot-sessions.ts';
export { backupDatabase, backupRetention, restoreBackup, restoreDrill } from './backups.ts';
export { botTenantReconcile } from './bot-tenant.ts';
export { awaitIntegrityApprovals, dataIntegrityRun, deliverIntegrityAlerts, scheduledIntegrityRun, undoIntegrityFix } from './data-integrity.ts';
export { dailyRetention, tenantRetention } from './data-retention.ts';
export { dataSubjectErasure } from './data-subject.ts';
export { reconcileTenantSchedules, scheduledTenantRun, syncTenantSchedule } from './schedules.ts';
export { emailSequence } from './email-sequences.ts';
export { deleteTenant } from './tenant-delete.ts';
