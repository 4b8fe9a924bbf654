export { receive } from './receive.js';
export { createReceiver } from './server.js';
export { formatReport, REPORT_LIMITS, type ReceiptReport, type ReceivedPart } from './report.js';
export { ReceiveError, type ReceiveErrorCode } from './errors.js';
export type { ReceiverLimits, ReceiverOptions } from './limits.js';
