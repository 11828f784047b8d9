/** MQTT adapters: the connection (client.ts), the embedded broker (broker.ts) and its access control (brokerAuth.ts), the sensor source (sensor.ts) and the topic layout (topics.ts). */
export * from './client.js';
export * from './broker.js';
export * from './brokerAuth.js';
export * from './sensor.js';
export * from './topics.js';
