// The bot pod's reading of Baileys messages that are not text (bot-pods/inbound.ts): a voice note,
// a sticker, a location or media become messages of their kind; reactions and protocol messages stay ignored.
import { describe, expect, it } from '@jest/globals';
import type { proto } from '@whiskeysockets/baileys';
import { toInboundMessage } from '../bot-pods/inbound.ts';
import { carriesNoWords } from '../core/lead-conversation/message-kinds.ts';

const context = { tenantId: 't', botId: 'b', ignoreGroups: true, phoneJidForLid: async () => null, routingKey: () => '5511911112222' };
const read = (message: object) => toInboundMessage(
  { key: { remoteJid: '5511911112222@s.whatsapp.net', id: 'M1', fromMe: false }, message, messageTimestamp: 1_790_000_000 } as proto.IWebMessageInfo, context);

describe('inbound message kinds', () => {
  it('reads a voice note, a sticker, a location and an uncaptioned image as messages without words', async () => {
    const voice = await read({ audioMessage: { ptt: true, seconds: 4, mimetype: 'audio/ogg; codecs=opus' } });
    const sticker = await read({ stickerMessage: { mimetype: 'image/webp' } });
    const location = await read({ locationMessage: { degreesLatitude: -23.55, degreesLongitude: -46.63, name: 'Loja' } });
    const image = await read({ ephemeralMessage: { message: { imageMessage: { mimetype: 'image/jpeg' } } } });
    expect([voice, sticker, location, image].map((message) => message && { kind: message.kind, text: message.text })).toEqual([
      { kind: 'audio', text: '' }, { kind: 'sticker', text: '' }, { kind: 'location', text: '-23.55,-46.63' }, { kind: 'image', text: '' },
    ]);
    expect([voice, sticker, location, image].every((message) => carriesNoWords(message!))).toBe(true);
  });

  it('keeps a caption as the words of its media, and text unmarked', async () => {
    const captioned = await read({ imageMessage: { caption: 'quanto custa?' } });
    expect(captioned).toMatchObject({ kind: 'image', text: 'quanto custa?' });
    expect(carriesNoWords(captioned!)).toBe(false);
    const text = await read({ conversation: 'oi' });
    expect(text).toMatchObject({ text: 'oi' });
    expect(text).not.toHaveProperty('kind');
  });

  it('still ignores reactions, deletes and empty messages', async () => {
    expect(await read({ reactionMessage: { text: '👍', key: { id: 'M0' } } })).toBeNull();
    expect(await read({ protocolMessage: { type: 0 } })).toBeNull();
    expect(await read({})).toBeNull();
  });
});
