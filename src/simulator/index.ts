/** The SMSC simulator's public surface (see simulator.ts, control-server.ts and run-simulator.ts). */
export { startSimulator, Simulator } from './simulator.ts';
export type { BindSummary, InjectedReply, RestartOptions, SimulatorState, SimulatorStats } from './simulator.ts';
export { runSimulator, RUN_DEFAULTS, type RunSimulatorOptions } from './run-simulator.ts';
export { resolveSimulatorOptions } from './options.ts';
export type { DelayOption, ResolvedSimulatorOptions, SimulatorCredentials, SimulatorOptions } from './options.ts';
export type { Arrival, ArrivalConcat, ArrivalStatus } from './arrival-log.ts';
export type { HandsetMessage, HandsetOptions, HandsetRule } from './handset.ts';
export type { IdFormat, ReceiptIdFormat } from './message-ids.ts';
export { MESSAGE_STATE, RECEIPT_STATS, formatReceiptText, type ReceiptForm, type ReceiptMix, type ReceiptStat } from './receipts.ts';
export type { ReplyRequest } from './replies.ts';
