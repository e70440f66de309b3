// Requests Node's HTTP parser refuses before Express sees them (headers over maxHeaderSize, a
// malformed request line, a request too slow to arrive) are answered with a problem document too,
// the status Node itself would have chosen.
import type { Socket } from 'node:net';

const STATUS_OF: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request headers are larger than the server reads'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request did not arrive in time'],
};
const BAD_REQUEST: [number, string, string] = [400, 'Bad Request', 'the request is not valid HTTP'];

export const answerClientError = (error: NodeJS.ErrnoException, socket: Socket) => {
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || response?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, title, detail] = STATUS_OF[error.code ?? ''] ?? BAD_REQUEST;
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  socket.end(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
};
