/** MQTT adapters: the connection (client.ts), the embedded broker (broker.ts), the sensor source (sensor.ts) and the topic layout (topics.ts). */
export * from './client.js';
export * from './broker.js';
export * from './sensor.js';
export * from './topics.js';
