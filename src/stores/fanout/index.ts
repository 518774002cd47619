export { LiveFanoutPublisher, parseLiveMessage, type LiveMessage, type LivePublish } from './live-fanout.js';
export { RedisFanout, type RedisFanoutOptions, type RefreshNotice } from './redis-fanout.js';
export { MemoryCache, cached, type ResponseCache } from './response-cache.js';
