#!/usr/bin/env bash
# Builds and runs Latitude's benchmarks; see docs/BENCHMARKS.md.
#
#   benchmarks/run.sh plan       JMH: cost and allocation of one routing decision
#   benchmarks/run.sh failover   scenario: blackhole the preferred region under load, measure the failover; a cold
#                                pass (client in a fresh JVM, no pre-warm), then a warm pass
#   benchmarks/run.sh token      JMH: encode, decode, verify and merge session tokens; encoded sizes
#   benchmarks/run.sh dynamodb   scenario: MultiRegionDynamoDbClient on DynamoDB Local regions (overhead, sessions, failover)
#   benchmarks/run.sh tail       scenario: 5 % of the local region's requests 300 ms late; does latency routing keep it
#                                first, and does hedging cut the tail within its budget?
#   benchmarks/run.sh s3         scenario: MultiRegionS3Client on S3Proxy regions (overhead, 64 MiB bodies, sessions
#                                beside a plain client under replication lag, failover)
#   benchmarks/run.sh jdbc       scenario: MultiRegionDataSource beside pgjdbc + HikariCP, the AWS JDBC wrapper and pgjdbc
#                                multi-host on a PostgreSQL primary and two replicas (overhead, sessions, failovers)
#   benchmarks/run.sh all        all of them, then rewrite docs/BENCHMARKS.md and the figures other docs quote from it
#
# Output is also written to benchmarks/results/NAME.txt (git-ignored); the last lines are the figures,
# one per line, as NAME.metric=value unit. Extra Maven flags (such as -o) can be given in LATITUDE_MVN_FLAGS.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BENCHMARKS=(plan failover token dynamodb tail s3 jdbc)
JAR=benchmarks/target/benchmarks.jar
RESULTS=benchmarks/results
DOC=docs/BENCHMARKS.md

usage() {
    echo "usage: benchmarks/run.sh NAME" >&2
    echo "  NAME: plan | failover | token | dynamodb | tail | s3 | jdbc | all (runs every benchmark and rewrites $DOC)" >&2
    exit 2
}

build() {
    # shellcheck disable=SC2086 # LATITUDE_MVN_FLAGS is a list of flags
    mvn -q -B -DskipTests ${LATITUDE_MVN_FLAGS:-} -pl benchmarks -am package
}

run_one() {
    mkdir -p "$RESULTS"
    java -jar "$JAR" "$1" 2>&1 | tee "$RESULTS/$1.txt"
}

# The figure lines of a finished run.
metrics() {
    grep -E "^$1\.[a-z0-9_]+=" "$RESULTS/$1.txt"
}

describe() {
    case "$1" in
    plan)
        cat <<'MD'
## plan: the cost of one routing decision

JMH (`PlanBenchmark`), single thread, average time per call with the `gc` profiler; 1 fork, 3 × 1 s warm-up,
5 × 1 s measurement. The engine has every region healthy and OpenTelemetry is a no-op; the local region is
us-east-1, and us-east-2 lies within the latency policy's 15 ms window of it (distance-based estimate), so the
power-of-two-choices draw runs on every call.

Cases are `<method>_<policy>_<regions>`:

- `plan`: the public `Latitude.plan(op)`: the decision plus the `List<RegionSpec>` and `Plan` built for callers.
- `call`: a whole `Latitude.executeAsync(op, call)` whose region call answers at once: planning, the attempt-timeout
  and deadline timers (scheduled and cancelled on the engine's scheduler thread), the execution state and the no-op
  span; the engine's own overhead on every call.
- `latency`: `RoutingPolicy.latency().build()`; `geo_latency`:
  `RoutingPolicy.geolocation()` (jurisdictions US and EU, default us-east-1) `.then(RoutingPolicy.latency().build())`.
- `3` regions: us-east-1, us-east-2, eu-west-1; `8`: those and us-west-2, eu-central-1, ap-northeast-1,
  ap-southeast-2, sa-east-1.

`ns_per_op` is the JMH score (mean); `alloc_bytes_per_op` is `gc.alloc.rate.norm`, bytes allocated per call. The
full JMH output, with error margins, is in `benchmarks/results/plan.txt` after a run.
MD
        ;;
    failover)
        cat <<'MD'
## failover: blackholing the preferred region under load, from a cold start and warm

A scenario (`FailoverScenario`, plain `main`), end to end over HTTP on 127.0.0.1. Three `FakeRegion`s (WireMock):
us-east-1 5 ms, us-west-2 25 ms, eu-west-1 70 ms. The engine prefers us-east-1
(`RoutingPolicy.failover().priority("us-east-1", "us-west-2", "eu-west-1")`), attempt timeout 100 ms; everything
else is the engine's default: deadline 5 s, `HedgingConfig.defaults()` (hedge at the region's p95, budget 5 % of
calls, burst 10), `BreakerConfig.defaults()` (open at 5 failures of the last 10 attempts once at least 10 were judged
within 10 s, stay open 5 s, close after 3 successful trial calls), OpenTelemetry no-op. The bare engine has no health
probe, so a healed region would wait for the breaker's 5 s open delay; the user in this scenario supplies one, as
`FailoverDemo` does: a GET of the region's `/health`, with `ProbeConfig.builder().interval(250 ms).timeout(250 ms)
.unhealthyOnly(true)` (the DynamoDB client's default: only regions whose circuit is not closed, or whose probe is
down, are probed; a region that answers twice in a row half-opens its circuit at once). The probe's HTTP request is
cut after 1 s (an answer past the probe timeout still counts as a success). A `FakeRegionClient` sends idempotent
reads at 200 calls/s from 4 threads (at most 3,800 calls).

Timeline of a pass: the load starts, 5 s later us-east-1 is blackholed (accepts, never answers) for 8 s (longer than
the breaker's open delay, so half-open trial calls can meet the blackhole too), then healed, then 5 s more load.

`benchmarks/run.sh failover` runs two passes, cold first:

- **Cold pass** (`failover-cold` in the log; the `cold_*` figures and `recovered_ms`): the client (engine, HTTP
  client, probe) runs in a fresh JVM that has run nothing else; the engine is built with the settings above and the
  load starts at once, as when a service boots. No pre-warm, no `warmUp(...)`. The fake regions run in the parent
  process and are warmed there first with 200 plain GETs each: a booting service meets servers that have been up for
  a while (and WireMock's own cold start would otherwise compete with the client's for the same two cores). The
  parent applies the blackhole and the heal when the client asks for them.
- **Warm pass** (`failover` in the log; the other figures): fake regions and client in one JVM, pre-warmed first with
  200 reads per region through a throwaway engine; then the same engine settings, load and timeline. This measures
  the failover itself.

Cold-pass figures:

- `cold_failed_calls`: calls that failed or did not complete over the whole cold run, fault included (target 0).
- `cold_circuits_opened_before_fault`: circuit CLOSED -> OPEN transitions of any region before the blackhole
  (target 0: nothing is wrong with any region then).
- `cold_start_p99_ms`, `cold_start_max_ms`: latency of the calls started in the first second of load.
- `recovered_ms`: time from the heal to the start of the first call served by us-east-1 (target ≤ 1,000); -1 if none
  was before the end. The log also says from when every call went to us-east-1 first and was served there.
- `cold_total_calls`: calls made.

Warm-pass figures:

- `baseline_p50_ms`, `baseline_p99_ms`: latency of calls started in the 3 s before the blackhole.
- `moved_ms`: time from the blackhole to the last routing decision that still sent an ordinary call to us-east-1
  first; after that moment every call started during the fault went first to another region, except breaker trial
  calls (first attempt in us-east-1 while its circuit was not closed; counted in `trial_calls`). Calls completing
  after the blackhole are all answered by other regions anyway (after a hedge or a timeout), so what is measured is
  when new calls stop being sent to the dead region. -1 if its circuit never opened.
- `p99_ms`, `fault_p50_ms`, `fault_max_ms`: latency of the calls started during the fault window (8 s), including
  those caught by it.
- `trial_calls`: calls during the fault whose first attempt was a breaker trial in us-east-1.
- `warm_recovered_ms`: as `recovered_ms`, for the warm pass.
- `total_calls`, `failed_calls`: calls made, and calls that failed or did not complete (target 0).

`java -jar benchmarks/target/benchmarks.jar failover-cold-warmup` runs the cold pass with
`Latitude.Builder.warmUp(Duration.ofSeconds(2))` (the probe's request sent to every region before `build()`
returns); its figures are named `cold_warmup_*`. `failover-cold` and `failover-warm` run one pass alone.
MD
        ;;
    token)
        cat <<'MD'
## token: carrying a session token

JMH (`TokenBenchmark`), single thread, average time per call with the `gc` profiler; 1 fork, 2 × 1 s warm-up,
3 × 1 s measurement. The session wrote `N` scopes (1, 10, 100, 1,000): distinct keys spread round-robin over
`min(N, 10)` data classes, taken by 3 regions, each with its own HLC timestamp as watermark. The codecs have the
default maximum length of 4,096 characters; the signed one uses HMAC-SHA256 with one key.

- `encode_ns_N`: `SessionTokenCodec.encode(token)`, unsigned. At 1,000 scopes the text would be far too long, so
  this includes folding the oldest keys into their class watermarks (halving the key entries until it fits).
- `decode_ns_N`: `decode(text)` of that unsigned text (at 1,000 scopes, the folded one).
- `verify_ns_N`: `decode(text)` of the signed text: HMAC-SHA256 verification plus parsing.
- `merge_ns_N`: `token.merge(other)`, `other` another copy of the session with `N` keys: half of them the same keys
  written later, half keys the token does not hold.
- `alloc_bytes_METHOD_N`: `gc.alloc.rate.norm`, bytes allocated per call.
- `size_bytes_N`, `signed_size_bytes_N`: length of the text (ASCII, so bytes) for a header or cookie, unsigned and
  signed; always at most 4,096. `keys_kept_N`: key entries left in it (the rest were folded).

The full JMH output, with error margins, is in `benchmarks/results/token.txt` after a run.
MD
        ;;
    dynamodb)
        cat <<'MD'
## dynamodb: MultiRegionDynamoDbClient on DynamoDB Local regions

A scenario (`DynamoDbScenario`, plain `main`) against the testkit's `DynamoDbLocalRegions`: three DynamoDB Local
servers in the JVM on 127.0.0.1, us-east-1 (the writer), eu-west-1 (the local region, a reader) and ap-southeast-2,
replicated by the testkit's emulator with a fixed 1 s lag (`clockToTimestamp` set so that the emulator orders writes
by the client's `_lat_ts` stamps). The routing policy is `RoutingPolicy.failover().priority("eu-west-1", "us-east-1",
"ap-southeast-2")`: on loopback every region is as close as the others, so a latency policy would spread reads over
all three. Five parts, one run (about 2.5 minutes):

- **Overhead** (`overhead_pct`, `plain_ops_per_s`, `wrapped_ops_per_s`): GetItem of 1,000 existing items from 4
  threads, through a plain `DynamoDbClient` of eu-west-1's server and through the `MultiRegionDynamoDbClient` whose
  eu-west-1 client is that same client (table EVENTUAL, no session, OpenTelemetry no-op, hedging off: a hedge would
  land on another emulated region sharing the same two cores). 3 warm-up rounds of each, then 10 rounds of 1.5 s
  each, alternating which client goes first; `overhead_pct` compares the medians, `overhead_paired_pct` is the median
  of the rounds' own differences.
- **Added latency** (`added_p50_us`, `plain_p50_us`, `wrapped_p50_us`, `added_p99_us`): the same GetItem,
  sequential from one thread, 10 interleaved rounds of 0.75 s per client; p50 (HdrHistogram) of all rounds, wrapped
  minus plain. `engine_execute_p50_us`: `Latitude.execute` of a region call that returns at once (planning, timers,
  and the hand-off to the attempt executor and back where there is one), sequential: the engine's own share.
- **Three passes of the same two.** Without suffix: the client's defaults, whose blocking client runs a call's
  unhedged first attempt on the calling thread (`callerRunsFirstAttempt`, on by default since every region request
  is cut by the AWS SDK when the engine would move on), over region clients without timeouts of their own, so each
  request is sent as a copy carrying the attempt timeout. `_bounded_clients`: the same over clients with
  `apiCallTimeout` 1 s (the attempt timeout), whose requests are sent as they are: the difference is the cost of that
  copy. `_pooled`: `callerRunsFirstAttempt(false)`, every attempt handed to the attempt executor and waited for, the
  path hedged reads take: two thread wake-ups per call, tens of microseconds on these two cores shared with three
  DynamoDB Local servers and the replication emulator. With `-Ddynamodb.overheadHedging=true` the reads are hedgeable;
  since the 2026-11-30 evening they too run on the calling thread while their region is calm (see docs/DYNAMODB.md).
- **Sessions** (`local_read_share_pct`, `ryw_violations`, `monotonic_violations`, `stale_reads_avoided`): 8
  concurrent sessions, each its own `Session` (SESSION consistency, single writer us-east-1), 50 operations/s each for
  10 s: 10 % PutItem of the session's own keys (a counter per key as version), 90 % GetItem (80 % own keys, 20 %
  another session's); 300 keys per session, 2,400 in all, preloaded and replicated before. Heartbeats every 250 ms,
  hedging defaults. The remote regions are reached through WireMock proxies adding 40 ms (us-east-1) and 150 ms
  (ap-southeast-2): without a distance, a hedge to the "remote" writer beats the local server whenever this machine
  stalls, and since an outpaced attempt counts against a circuit, the local region's circuit opens and sends every
  read away for 5 s. Every operation is recorded in a testkit `History` and checked with `HistoryChecker`;
  the region that answered each read is the `cloud.region` attribute of the client's span (an in-memory
  OpenTelemetry SDK; each operation runs under a span of its own so its child is found). `local_read_share_pct`:
  reads answered by eu-west-1; the others went to the writer because heartbeats showed eu-west-1 behind the
  session's write of that key, or eu-west-1's answer was older than it (`stale_reads_avoided`).
- **Failover** (`failover_p99_ms`, `failover_failed_calls`, `failover_p50_ms`, `failover_max_ms`,
  `failover_baseline_p99_ms`, `failover_total_calls`): 200 calls/s (90 % GetItem, 10 % idempotent PutItem of new
  items, the table multi-writer, EVENTUAL) through a client whose eu-west-1 client goes through the lab's fault
  front (`DynamoDbLocalRegions.front`); attempt timeout 200 ms, `HedgingConfig.defaults()`,
  `BreakerConfig.defaults()`. 3 s of load, the front blackholed for 6 s, healed, 3 s more. The p50/p99/max are of
  calls started during the blackhole; `failed_calls` counts failed or unfinished calls over the whole run (target 0).

Targets: `overhead_pct` ≤ 3, `added_p50_us` ≤ 20 with the client's defaults (the `_pooled` figures vary with the
machine's load, see the log), `local_read_share_pct` ≥ 95, `ryw_violations` 0,
`failover_failed_calls` 0. DynamoDB Local answers a GetItem in about 1.4 ms on this machine (mostly its own CPU), so
the overhead figures are a few tens of microseconds against that, and the throughput rounds swing by ±20 % when the
machine is busy: read the per-round lines in `benchmarks/results/dynamodb.txt` before trusting one run.
MD
        ;;
    s3)
        cat <<'MD'
## s3: MultiRegionS3Client on S3Proxy regions

A scenario (`S3Scenario`, plain `main`) against the testkit's `S3Regions`: two S3Proxy servers in the JVM on
127.0.0.1, us-east-1 (takes the writes) and eu-west-1 (the local region), each behind a TCP fault front; routing
`failover().priority("eu-west-1", "us-east-1")`. Four parts, one run:

- **Overhead** (`overhead_pct`): 1 KiB GetObjects from 4 threads, plain `S3Client` of eu-west-1 against the
  multi-region client (its region clients made by `buildClients`, as docs/S3.md recommends), 3 warm-up rounds and
  then more until the JIT settles (a 1 s round of each adds under 100 ms of compilation), then 12 interleaved 2 s
  rounds, each order half the time: `overhead_pct` compares the medians (target ≤ 5), `overhead_paired_pct` is the
  median of the rounds' own ratios (less swayed by the machine's other loads). Three passes: the client's defaults
  with hedging off (no suffix: the wrapper's own cost, as the dynamodb benchmark measures it), the client's defaults
  (suffix `_hedged`: hedging on, and a read runs on the calling thread while its region is calm, see docs/S3.md),
  and every attempt handed to the engine's attempt threads, `.router(b -> b.callerRunsFirstAttempt(false))` (suffix
  `_pooled`), the path a hedgeable read takes in a region that hedges often beat: two thread wake-ups per call. A
  hedge is a second GetObject: in this lab it lands on the same two CPUs as the plain client's requests, so the
  `_hedged` pass charges the hedges' extra requests (up to the hedging budget, 5 % of calls) to the wrapper;
  against real regions they land on another region's servers.
- **Large objects** (`large_get_wrapped_vs_plain_pct`, `large_put_wrapped_vs_plain_pct`): 64 MiB GetObject (read to
  the end into one reused buffer) and PutObject (from one array), 4 interleaved rounds, wrapped median over plain
  (target ≥ 98: the wrapper copies no body).
- **Sessions** under replication lag: the testkit's `S3ReplicationEmulator` replicates us-east-1's bucket to
  eu-west-1's 1 s behind (`ReplicationLag.fixed`; one delivery at a time per region pair), and us-east-1's front adds
  a 40 ms round trip (20 ms each way). Every key starts at counter 0 in both buckets. 16 sessions, each on its own 50
  keys, each paced at 25 operations/s from a random phase: 10 % PutObject of one of its keys (the body is the key's
  counter, one more than before), 90 % GetObject of one of them; 10,000 operations per client (`-Ds3.sessionOps=N`;
  `-Ds3.sessionRate=N` operations/s per session, 0 for as fast as they can). A read that returns an older counter
  than the session's own last write of that key, or a 404 for a key the session wrote, is a read-your-writes
  violation (`ryw_violations`). Which region answered a read is told by the region clients themselves: an AWS SDK
  `ExecutionInterceptor` on each region's `S3Client` adds its region's name as a header to every HTTP response it
  receives, and the benchmark reads that header on the response (or the `NoSuchKey` error) the caller got, so an
  answer a session read threw away (a stale replica's, a losing hedge's) is not counted; `local_read_share_pct`:
  reads answered by eu-west-1. Latitude: `MultiRegionS3Client` with the client's defaults apart from the routing
  policy, each session carrying its own `Session` in the OpenTelemetry context. The peer (`peer_plain_*`), same
  workload in the same run on keys of its own: a plain `S3Client` of us-east-1 for writes and one of eu-west-1 for
  reads, what an application does with Cross-Region Replication and no Latitude (its local share is 100 % by
  construction). Both use the same two region clients. `session_p50_us`, `session_p99_us`: all operations;
  `session_failures`: operations that threw. Each run's log line adds the reads answered by each region, the reads
  that came less than 1 s after the session's own write of that key returned (no replica can have that write yet, so
  100 % minus their share is about the most any client can read locally without breaking read-your-writes; at 25
  operations/s a session writes each of its keys every 20 s on average), and the GetObject requests each region's
  client sent (escalations to us-east-1 and hedges included).
- **Failover** (`failover_failed_calls`): reads from 2 threads while eu-west-1 is blackholed (target 0);
  `failover_slowest_read_ms` the slowest of them, what the move to us-east-1 cost a caller.

Targets: `overhead_pct` ≤ 5, `ryw_violations` 0, `local_read_share_pct` ≥ 90, `failover_failed_calls` 0.
MD
        ;;
    tail)
        cat <<'MD'
## tail: a region that is fast 95 % of the time, with default settings

A scenario (`TailScenario`, plain `main`) against the testkit's `DynamoDbLocalRegions`: three DynamoDB Local servers
on 127.0.0.1, each reached through a `TcpFaultProxy` whose `Fault.latency` delays every byte by half the region's
round trip (the fault applies per direction): eu-west-1, the local region, 3 ms; us-east-1 45 ms; ap-southeast-2
65 ms. 1,000 items are preloaded and replicated. The client is a `MultiRegionDynamoDbClient` with the defaults
(latency routing, `HedgingConfig.defaults()`: p95 and twice the median, budget 5 %, burst 10; the default breaker,
attempt timeout and probes); the only setting is the topology, and it is the common one: `localRegion("eu-west-1")`,
no coordinates. An in-memory OpenTelemetry SDK reads which region answered each call from the client's span.

Each run builds a fresh client, sends 500 warm-up reads, then measures 3,000 GetItem reads from 4 threads. A first
run only warms the JVM. Then the **no-tail** run, then the **tail** run, in which the local region's client sleeps
300 ms before sending 5 % of its requests (an AWS SDK `ExecutionInterceptor` drawing from a seeded `Random`; warm-up
included): as seen from the client, those requests are answered 300 ms late.

- `local_share_pct`: calls of the tail run answered by eu-west-1 (target ≥ 90).
- `p50_ratio`: the tail run's p50 over the no-tail run's (target ≤ 1.2).
- `p99_ms`: the tail run's p99 (target about 55: the next region's round trip plus the hedge delay).
- `extra_requests_pct`: GetItem requests the region clients sent beyond one per call (hedges and fallbacks), over
  calls, in the tail run (target ≤ 5, the hedging budget), counted by an interceptor on each region client.
- `p50_ms`, `p999_ms`, `hedged_pct` (calls whose span says hedged) of the tail run; `no_tail_p50_ms`,
  `no_tail_p99_ms`, `no_tail_local_share_pct`, `no_tail_extra_requests_pct` of the no-tail run.

On the main branch before this scenario existed, the same tail sent almost every read away from eu-west-1 (5 % stayed,
p50 2.8 ms -> 43.5 ms), and with routing pinned to eu-west-1 the p99 stayed at 302 ms with hedging on (146 hedges for
157 delayed requests, many spent on ordinary requests just above p95). The latencies include DynamoDB Local's own
time on a machine it shares with the load; read the per-run lines in `benchmarks/results/tail.txt`.
MD
        ;;
    jdbc)
        cat <<'MD'
## jdbc: MultiRegionDataSource beside pgjdbc, HikariCP and the AWS JDBC wrapper

A scenario (`JdbcScenario`, plain `main`) on the testkit's `PostgresCluster`: a PostgreSQL 15 primary and two
streaming replicas on 127.0.0.1, each behind its `TcpFaultProxy`; every client connects through the proxies. The
primary is us-east-1 (the writer), replica 1 eu-west-1 (the local region), replica 2 ap-southeast-2. Latitude's
`MultiRegionDataSource` has the engine's defaults and one HikariCP pool (16 connections) per region. The peers, side
by side on the same cluster in the same run: plain pgjdbc 42.7 in a HikariCP 6.3 pool; the AWS Advanced JDBC Wrapper
3.2.0 with its simple read/write splitting plugin (`wrapperPlugins=srw`, `srwWriteEndpoint` the primary,
`srwReadEndpoint` the local replica, `verifyNewSrwConnections=false`: with it on, each new connection's role is asked
of the host list provider, and the one for a plain connection string throws `UnsupportedOperationException` from
`getHostRole`); pgjdbc's own multi-host URL with
`targetServerType=primary` (default `hostRecheckSeconds=10`) in a HikariCP pool. Four parts, one run:

- **Overhead** (no emulated latency): a point read by primary key (`SELECT v FROM kv WHERE k = ?`, 1,000 rows) on the
  local replica. First a warm-up: every client alone and from 4 threads, 0.5 s each, pass after pass until a pass adds
  less than 100 ms of JIT compilation (at least 2 passes, at most 40 s; Latitude's path is more code to compile than
  pgjdbc's alone, about 8 s of it on two busy cores). Then sequential from one thread, 8 interleaved rounds of 0.5 s
  per client (`*_p50_us`, HdrHistogram), and from 4 threads, 16 rounds of 0.5 s per client in which the clients
  compared run back to back, in alternating order (`*_ops_per_s`, medians). `plain`: a HikariCP connection per read;
  `latitude`: a logical connection per read with `setReadOnly(true)`; `direct`: one pgjdbc connection per thread,
  held; `aws`: one wrapper connection per thread, held, read-only (the wrapper's own way of working: it keeps a
  writer and a reader connection under each logical one). `overhead_pct` = plain over latitude throughput - 1,
  `overhead_paired_pct` the median of the rounds' own such ratios (less swayed by other loads on the machine),
  `added_p50_us` = latitude p50 - plain p50; `peer_aws_overhead_pct`, `peer_aws_overhead_paired_pct` and
  `peer_aws_added_p50_us` compare the wrapper with `direct` the same way.
- **Sessions**: round trips emulated on the proxies (eu-west-1 1 ms, us-east-1 10 ms, ap-southeast-2 20 ms; half
  each way) and both replicas replaying 100 ms behind (`recovery_min_apply_delay`). 16 sessions, each on its own 50
  keys, as fast as they can: 10 % `UPDATE kv SET v = v + 1 WHERE k = ? RETURNING v` (the session remembers the version
  it wrote), 90 % reads of its keys (`SELECT v, inet_server_port() ...`, read-only). A read that returns an older
  version than the session's own last write is a read-your-writes violation (`ryw_violations`); which node answered
  is its `inet_server_port()` (`local_read_share_pct`: reads answered by eu-west-1). 100,000 operations per client
  (`-Djdbc.sessionOps=N`); then the same at 0 ms and 500 ms replay delay with 10,000 each (figures suffixed `_0ms`,
  `_500ms`). The wrapper's sessions hold one connection and switch it with `setReadOnly`; Latitude's each carry their
  own `Session` in the OpenTelemetry context and take a logical connection per operation. `replay_waits`: session
  reads that waited for eu-west-1 to replay the session's write, `replay_waits_replayed` those that then stayed there.
- **Reader blackholed** (Latitude): read-only reads from 4 threads; after 3 s the local replica's proxy swallows
  everything for 5 s, then heals; 3 s more. `reader_failover_failed` counts failed reads (target 0),
  `reader_moved_ms` the time from the blackhole to the first read answered elsewhere, `reader_fault_p99_ms` and
  `reader_fault_max_ms` the latency of reads started during the blackhole.
- **Writer killed, replica 2 promoted**: a write every 10 ms through each client, side by side; the primary is killed
  (SIGKILL), 1 s later ap-southeast-2 is promoted (`pg_promote`). `*promotion_to_write_ms`: from the end of the
  promotion to the first write that succeeded after it (-1: none within 40 s). The log lists each failed write (when
  it started relative to the kill, how long it took to fail, its class and SQLState) and the errors each client saw,
  by class and SQLState. `java -Djdbc.only=writer-failover -jar benchmarks/target/benchmarks.jar jdbc` runs this
  part alone (after the cluster and table are set up, with the round trips emulated as in the full run).

The testkit runs PostgreSQL with `synchronous_commit=off` and `fsync=off` (for speed): a commit returns before its
WAL is flushed, and replicas receive it only once the WAL writer flushes it (`wal_writer_delay`, 200 ms), so even at
0 ms replay delay a replica lags its writer by up to about 200 ms.

Targets: `overhead_pct` ≤ 5, `added_p50_us` ≤ 30, `ryw_violations` 0, `local_read_share_pct` ≥ 90 at 100 ms,
`reader_failover_failed` 0.
MD
        ;;
    esac
}

write_docs() {
    local cpu java_version load now
    cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
    java_version=$(java -version 2>&1 | head -n1)
    load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
    now=$(date -u '+%Y-%m-%d %H:%M UTC')
    mkdir -p "$(dirname "$DOC")"
    {
        cat <<MD
# Benchmarks

Generated by \`benchmarks/run.sh all\` on $now; rerun it rather than editing this file. Each figure is one run on the
machine below, so treat differences of a few percent (or, on a busy machine, much more) as noise.

Machine: ${cpu:-unknown CPU}, $(nproc) CPUs (\`nproc\`), $java_version, $(uname -sr); load average when the docs were
written: $load.

Run one benchmark with \`benchmarks/run.sh NAME\`; its output goes to \`benchmarks/results/NAME.txt\` (git-ignored)
and ends with its figures, one per line, as \`NAME.metric=value unit\`.

MD
        for b in "${BENCHMARKS[@]}"; do
            describe "$b"
            echo
            echo "Command: \`benchmarks/run.sh $b\`"
            echo
            echo "Figures ($now):"
            echo
            echo '```'
            metrics "$b"
            echo '```'
            if [ "$b" = failover ]; then
                echo
                echo "From the run's log (per-second and per-phase summaries, failures, circuit and probe transitions, engine"
                echo "status at the end; at most 20 transitions per pass):"
                echo
                echo '```'
                grep -E '^failover(-cold)?: (regions:|machine|t=[0-9]+ ms \(.*\) (circuit|probe)|second [0-9]|baseline|fault window|recovery window|requests reaching|status|[0-9]+ circuits opened|traffic back|[0-9]+ calls (failed|had)| +[0-9]+ (before|blackhole|after))' \
                    "$RESULTS/$b.txt" |
                    awk '/ ms \(.*\) (circuit|probe) / { if (++n[$1] > 20) { if (n[$1] == 21) print $1 " ..."; next } } { print }' || true
                echo '```'
                if grep -q 'right after the heal got no answer' "$RESULTS/$b.txt"; then
                    cat <<'MD'

A plain GET sent to us-east-1 right after the heal got no answer: `FakeRegion.blackhole()` answers each swallowed
request after 5 minutes on one of the region's 64 Jetty threads, so once about 60 requests were swallowed (calls
before the circuit opened, probes every 250 ms, trial calls) the healed region cannot serve anything, and
`recovered_ms` is -1 for a reason in the test kit, not in the engine.
MD
                fi
            fi
            if [ "$b" = dynamodb ]; then
                echo
                echo "From the run's log (throughput rounds, latency, sessions, failover phases):"
                echo
                echo '```'
                grep -E '^dynamodb: (overhead pass|round|throughput medians|sequential GetItem|Latitude\.execute|sessions: [0-9]+ operations|sessions: history|sessions: [0-9]+ reads planned|violation|failover: (before|blackhole|after|failures)|machine)' \
                    "$RESULTS/$b.txt" || true
                echo '```'
            fi
            if [ "$b" = jdbc ]; then
                echo
                echo "From the run's log (overhead rounds, sessions, reader blackhole, writer failover):"
                echo
                echo '```'
                grep -E '^jdbc: ' "$RESULTS/$b.txt" || true
                echo '```'
            fi
            if [ "$b" = s3 ]; then
                echo
                echo "From the run's log (rounds, sessions, failover):"
                echo
                echo '```'
                grep -E '^s3: ' "$RESULTS/$b.txt" || true
                echo '```'
            fi
            if [ "$b" = tail ]; then
                echo
                echo "From the run's log (one line per run):"
                echo
                echo '```'
                grep -E '^tail: ' "$RESULTS/$b.txt" || true
                echo '```'
            fi
            echo
        done
    } >"$DOC"
}

[ $# -eq 1 ] || usage
case "$1" in
plan | failover | token | dynamodb | tail | s3 | jdbc)
    build
    run_one "$1"
    ;;
all)
    build
    for b in "${BENCHMARKS[@]}"; do
        run_one "$b"
    done
    write_docs
    # Figures quoted in the other docs (<!--fig NAME.metric-->...) are copied from the new BENCHMARKS.md.
    # shellcheck disable=SC2086
    mvn -q -B ${LATITUDE_MVN_FLAGS:-} -pl samples -am test -Dtest=DocsCheckTest -Dsurefire.failIfNoSpecifiedTests=false \
        -Dlatitude.docs.update=true
    echo
    echo "Wrote $DOC and the figures the other docs quote"
    echo
    for b in "${BENCHMARKS[@]}"; do
        metrics "$b"
    done
    ;;
*)
    echo "unknown benchmark '$1'" >&2
    usage
    ;;
esac
