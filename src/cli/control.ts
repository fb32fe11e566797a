/**
 * Run-time control of every daemon at once, through Postgres and Redis (never through one
 * daemon's memory): `parley route|smsc pause|resume|list`, `parley queue list|cancel|requeue`,
 * `parley dead-letters list|replay`, `parley opt-out add|remove|list` and `parley check-bind`.
 * Pauses and cancellations are read by each daemon once a second; what they print says so.
 * JSON output (`--json`) is snake_case, like the event streams.
 */

export { routeCommand, smscCommand, type PauseArgs } from './control/pause.ts';
export { queueCommand, runQueue, type QueueArgs } from './control/queue.ts';
export { deadLettersCommand, runDeadLetters, type DeadLettersArgs } from './control/dead-letters.ts';
export { optOutCommand, runOptOut, type OptOutArgs } from './control/opt-out.ts';
export { checkBindCommand, runCheckBind, type CheckBindArgs } from './control/check-bind.ts';
export { purgeCommand, runPurge, type PurgeArgs } from './control/purge.ts';
