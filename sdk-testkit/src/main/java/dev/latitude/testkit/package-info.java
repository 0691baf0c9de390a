/**
 * Fake regions on one machine for Latitude's own tests, benchmarks and demo, and for users' tests:
 * {@link dev.latitude.testkit.FakeRegion} (an HTTP region on 127.0.0.1 with runtime faults),
 * {@link dev.latitude.testkit.FakeRegions} and {@link dev.latitude.testkit.FakeRegionClient}; for real data stores,
 * {@link dev.latitude.testkit.TcpFaultProxy} (the same {@link dev.latitude.testkit.Fault faults} in front of any TCP
 * server) and {@link dev.latitude.testkit.PostgresCluster} (a local PostgreSQL 15 primary with streaming replicas, each
 * behind a fault proxy).
 */
package dev.latitude.testkit;
