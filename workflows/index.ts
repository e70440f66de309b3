// Every workflow the platform worker registers. Deterministic code only: see eslint.config.js.
export { platformSelfCheck } from './self-check.ts';
export { leadConversation } from './lead-conversation.ts';
