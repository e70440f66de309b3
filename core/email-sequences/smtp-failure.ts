// What a failed send means for the enrolment. The SMTP reply code decides (RFC 5321 section 4.2.1):
// 4xx and no reply at all (refused connection, timeout, dropped socket) may pass: retry later.
// 5xx is final. A 5xx to the recipient (RCPT TO) or to the message (DATA: with one recipient, a bounce
// of that address) means this address must not be mailed again; a 5xx elsewhere (AUTH, MAIL FROM) is
// the sender's configuration, and no reason to suppress the lead's address.
export type SmtpFailure =
  | { readonly kind: 'temporary'; readonly detail: string }
  | { readonly kind: 'address-refused'; readonly detail: string }
  | { readonly kind: 'sender-refused'; readonly detail: string };

type NodemailerError = { message?: unknown; responseCode?: unknown; response?: unknown; command?: unknown };

export const classifySmtpFailure = (error: unknown): SmtpFailure => {
  const { message, responseCode, response, command } = (typeof error === 'object' && error !== null ? error : {}) as NodemailerError;
  const detail = (typeof response === 'string' ? response : String(message ?? error)).slice(0, 1000) || 'unknown SMTP failure';
  if (typeof responseCode !== 'number' || responseCode < 500 || responseCode > 599) return { kind: 'temporary', detail };
  return typeof command === 'string' && /^(RCPT|DATA)/i.test(command)
    ? { kind: 'address-refused', detail }
    : { kind: 'sender-refused', detail };
};
