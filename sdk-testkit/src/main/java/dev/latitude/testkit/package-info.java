/**
 * Fake regions on one machine for Latitude's own tests, benchmarks and demo, and for users' tests:
 * {@link dev.latitude.testkit.FakeRegion} (an HTTP region on 127.0.0.1 with runtime faults, optionally a proxy in
 * front of a real local backend), {@link dev.latitude.testkit.FakeRegions} and
 * {@link dev.latitude.testkit.FakeRegionClient}; {@link dev.latitude.testkit.FaultSchedule} (faults on a timeline);
 * {@link dev.latitude.testkit.RttMatrix} and {@link dev.latitude.testkit.LatencyModel} (realistic inter-region
 * latency with jitter and heavy tails); for real data stores, {@link dev.latitude.testkit.TcpFaultProxy} (the same
 * {@link dev.latitude.testkit.Fault faults} in front of any TCP server) and
 * {@link dev.latitude.testkit.PostgresCluster} (a local PostgreSQL 15 primary with streaming replicas, each behind a
 * fault proxy, run from a system install or from the PostgreSQL bundle Maven brings, see
 * {@link dev.latitude.testkit.PostgresBinaries}); {@link dev.latitude.testkit.History} and {@link dev.latitude.testkit.HistoryChecker} (record what a
 * test did and check read-your-writes, monotonic reads, lost writes and residency); and emulated DynamoDB regions:
 * {@link dev.latitude.testkit.DynamoDbLocalRegion} (DynamoDB Local in-process on 127.0.0.1),
 * {@link dev.latitude.testkit.DynamoDbLocalRegions} (a lab of them) and
 * {@link dev.latitude.testkit.ReplicationEmulator}, which replicates their tables like a global table with a
 * configurable {@link dev.latitude.testkit.ReplicationLag}, stalls and last-writer-wins.
 */
package dev.latitude.testkit;
