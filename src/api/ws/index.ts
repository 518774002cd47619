export { StreamHub, DEFAULT_STREAM_OPTIONS, type StreamHubOptions, type StreamHubStats, type LatencyProbe } from './stream-hub.js';
export { StreamClient, type StreamSocket, type StreamClock, type StreamCounters } from './stream-client.js';
export { parseClientMessage, STREAM_CHANNELS, REFRESH_CHANNEL, MAX_SYMBOLS_PER_MESSAGE, type ClientMessage } from './client-message.js';
export { registerStreamRoute } from './stream-route.js';
