/**
 * The flags Node is started with for the daemon, where Parley is packaged: the Dockerfile's CMD,
 * compose.yaml's parley service and the systemd unit's ExecStart give them (packaging and compose
 * tests check all three against this list), and the benchmarks start their daemon with them. They
 * cannot be set from inside: V8 sizes the heap's young generation when the process starts, and a
 * later `v8.setFlagsFromString` is ignored for it (compiler-tuning.ts can set its flag at run time).
 *
 * `--max-semi-space-size=64` (MB; Node 20's default is 16): a young generation of 128 MB instead
 * of 32. The hot path allocates about 40 kB a message and holds each batch for a Postgres round
 * trip; at a few thousand messages a second a 16 MB semi-space filled every ~50 ms, so batches still
 * in flight were copied by one scavenge and promoted by the next, to be collected later by the
 * full collector. With 64: 33 scavenges instead of 79 in a 20,000-message run (`BENCH_NODE_FLAGS=
 * "--trace-gc"`), and daemon CPU a message 124 -> 119 µs (medians, lower in 5 of 5 alternated
 * pairs of `npm run bench -- --no-two-way --binds 1`), messages final a second 5,698 -> 5,873
 * (higher in 4 of 5). The price is memory: the daemon's peak RSS in that run 261-274 -> 332-377 MB.
 * Two-way (`npm run bench:two-way`, 3 pairs) was the same either way.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
