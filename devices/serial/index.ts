/** Serial devices: the OpenBCI Cyton / Cyton + Daisy source, its byte-stream parser and packet codec. */
export {
  cytonSource, CytonError, DEFAULT_CYTON_SOURCE_OPTIONS, parseCytonUri, resolveCytonOptions,
  type CytonConnectEvent, type CytonDisconnectEvent, type CytonEvent, type CytonFrame, type CytonGapEvent,
  type CytonReconnectEvent, type CytonRejectEvent, type CytonResumeEvent, type CytonSource, type CytonSourceOptions,
  type CytonStats, type CytonWarningEvent, type ResolvedCytonOptions,
} from './cyton.js';
export {
  CYTON_REJECT_REASONS, CytonParser, DEFAULT_CYTON_PARSER_OPTIONS,
  type CytonParserOptions, type CytonParserStats, type CytonReject, type CytonRejectReason, type CytonSample,
} from './cytonParser.js';
export {
  CYTON_ACCEL_SCALE, CYTON_CHANNELS, CYTON_DEFAULT_GAIN, CYTON_GAINS, CYTON_PACKET_BYTES, CYTON_PACKET_RATE,
  cytonMicrovoltsPerCount, encodeCytonPacket, isCytonFooter,
} from './cytonPacket.js';
export { DEFAULT_RECONNECT_OPTIONS, Reconnector, type ReconnectOptions, type ReconnectPlan, type ReconnectTimers } from './reconnect.js';
