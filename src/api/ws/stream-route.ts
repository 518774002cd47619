import type { FastifyInstance } from 'fastify';
import type { RawData } from 'ws';
import { isStockStreamError } from '../../shared/errors.js';
import { errorBody } from '../error-reply.js';
import { parseClientMessage } from './client-message.js';
import type { StreamHub } from './stream-hub.js';

function text(raw: RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}

/**
 * `GET /api/stream` (WebSocket). Needs @fastify/websocket registered on `app` or a parent. A plain
 * HTTP GET gets 426 with the JSON error shape rather than a bare 404.
 */
export function registerStreamRoute(app: FastifyInstance, hub: StreamHub): void {
  app.route({
    method: 'GET',
    url: '/api/stream',
    handler: async (_request, reply) =>
      reply
        .code(426)
        .header('upgrade', 'websocket')
        .send(errorBody('SS_API_BAD_REQUEST', 'connection: /api/stream is a WebSocket endpoint, got a plain HTTP request; connect with a WebSocket client (Upgrade: websocket)')),
    wsHandler: (socket, request) => {
      const client = hub.connect(socket);
      socket.on('message', (raw, isBinary) => {
        if (isBinary) {
          client.sendError('SS_API_BAD_REQUEST', 'message: expected a JSON text frame, got a binary frame; send the subscription as text');
          return;
        }
        const message = parseClientMessage(text(raw));
        if (isStockStreamError(message)) {
          client.sendError(message.code, message.message);
          return;
        }
        try {
          hub.handle(client, message);
        } catch (err) {
          request.log.error({ err }, 'stream message handling failed');
          client.sendError('SS_INTERNAL', `internal error while applying your ${message.type}; the server log has the details`);
        }
      });
      socket.on('close', () => hub.disconnect(client));
      socket.on('error', (err) => {
        request.log.warn({ err }, 'stream socket error');
        hub.disconnect(client);
      });
    },
  });
}
