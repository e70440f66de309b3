// What an inbound WhatsApp message is, beyond its text: the bot answers a message that carries no
// words (a voice note, a sticker, a location, an image without a caption) with the bot's non-text
// reply instead of ignoring it, and stores it as a message of its kind.

/** The kinds `lead_messages.kind` accepts (migration 032). */
export const MESSAGE_KINDS = ['text', 'audio', 'image', 'video', 'sticker', 'location', 'document'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** The reply of a bot whose `nonTextReply` is not set. */
export const DEFAULT_NON_TEXT_REPLY = 'Recebi sua mensagem, mas por aqui só consigo ler texto. Pode me escrever, por favor?';

/**
 * True for a message without words a person typed: media without a caption, and a location (its
 * stored text is its coordinates, not words). A message recorded before kinds existed is text.
 */
export const carriesNoWords = (message: { readonly kind?: MessageKind; readonly text: string }): boolean =>
  message.kind !== undefined && message.kind !== 'text' && (message.kind === 'location' || message.text.trim() === '');
