export { registerWebApp } from './web-app-route.js';
export { shippedWebDir } from './shipped-web-dir.js';
