/** Serial devices: the OpenBCI Cyton / Cyton + Daisy source and the text line-protocol source, their parsers, and the shared serial link. */
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
export {
  linesSource, LinesError, DEFAULT_LINES_SOURCE_OPTIONS, parseLinesUri, resolveLinesOptions,
  type LinesConnectEvent, type LinesDisconnectEvent, type LinesEvent, type LinesFrame, type LinesHeaderEvent,
  type LinesReconnectEvent, type LinesRejectEvent, type LinesResumeEvent, type LinesSource, type LinesSourceOptions,
  type LinesStats, type LinesWarningEvent, type ResolvedLinesOptions,
} from './lines.js';
export { defaultLinesStallTimeoutMs } from './linesOptions.js';
export {
  DEFAULT_LINE_PARSER_OPTIONS, EXCERPT_BYTES, LINE_REJECT_REASONS, LineParser, lineExcerpt, parseNumber, resolveLineParserOptions,
  type LineHeader, type LineParserOptions, type LineParserStats, type LineRecord, type LineReject, type LineRejectReason,
  type LineSeparator, type LineTimeColumn, type LineTimeUnit,
} from './lineParser.js';
export {
  SerialLink, SerialLinkError,
  type SerialLinkConnectEvent, type SerialLinkDisconnectEvent, type SerialLinkEvent, type SerialLinkHandlers, type SerialLinkReconnectEvent,
  type SerialLinkHandshake, type SerialLinkLossReason, type SerialLinkOptions, type SerialLinkStage,
} from './link.js';
export { DEFAULT_RECONNECT_OPTIONS, Reconnector, type ReconnectOptions, type ReconnectPlan, type ReconnectTimers } from './reconnect.js';
