import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStockStreamError, type ErrorCode } from '../shared/errors.js';

/** The body of every HTTP error (ARCHITECTURE.md §5). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * Maps anything a route throws to a status and `{"error": {"code", "message"}}`. User errors keep
 * their message (it tells the caller what to fix); internal ones are logged and answered with a
 * generic message so stacks and internals never reach the client.
 */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  if (isStockStreamError(err)) {
    if (err.code === 'SS_API_NOT_FOUND') {
      void reply.code(404).send(errorBody(err.code, err.message));
      return;
    }
    if (err.kind === 'user') {
      void reply.code(400).send(errorBody(err.code, err.message));
      return;
    }
    if (err.kind === 'external') {
      request.log.warn({ err }, 'upstream dependency failed');
      void reply.code(503).send(errorBody(err.code, err.message));
      return;
    }
  }
  const status = (err as FastifyError | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors: malformed JSON body, unsupported media type, body too large.
    void reply.code(status).send(errorBody('SS_API_BAD_REQUEST', (err as Error).message));
    return;
  }
  request.log.error({ err }, 'unhandled error in API route');
  void reply
    .code(500)
    .send(errorBody('SS_INTERNAL', `internal error while serving ${request.method} ${request.routeOptions.url ?? 'this route'}; the server log has the details under request id ${request.id}`));
}

/**
 * Errors as `{"error": {"code", "message"}}` and a 404 that names the method and path (cut at 100
 * characters) and says what the app does serve (`routes`, given the printed path).
 */
export function useErrorReplies(app: FastifyInstance, routes: (method: string, path: string) => string): void {
  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const full = request.url.split('?')[0] ?? request.url;
    const path = full.length > 100 ? `${full.slice(0, 100)}…` : full;
    void reply.code(404).send(errorBody('SS_API_NOT_FOUND', routes(request.method, path)));
  });
}
