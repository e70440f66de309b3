// The parts of Baileys a pod runs, each from its own module. Baileys' index also loads the WhatsApp
// analytics tables (lib/WAM, 1.4 MB of source) that a bot never sends: ~4 MB of a pod's RSS.
// Baileys' package.json has no `exports` map, so these paths are importable; its version is pinned.
export { default as makeWASocket } from '@whiskeysockets/baileys/lib/Socket/index.js';
export { DisconnectReason } from '@whiskeysockets/baileys/lib/Types/index.js';
export { initAuthCreds, makeCacheableSignalKeyStore } from '@whiskeysockets/baileys/lib/Utils/auth-utils.js';
export { Browsers } from '@whiskeysockets/baileys/lib/Utils/browser-utils.js';
export { BufferJSON } from '@whiskeysockets/baileys/lib/Utils/generics.js';
export { proto } from '@whiskeysockets/baileys/WAProto/index.js';
