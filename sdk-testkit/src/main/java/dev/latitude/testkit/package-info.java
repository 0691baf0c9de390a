/**
 * Fake regions on one machine for Latitude's own tests, benchmarks and demo, and for users' tests:
 * {@link dev.latitude.testkit.FakeRegion} (an HTTP region on 127.0.0.1 with runtime faults, optionally a proxy in
 * front of a real local backend), {@link dev.latitude.testkit.FakeRegions} and
 * {@link dev.latitude.testkit.FakeRegionClient}; {@link dev.latitude.testkit.FaultSchedule} (faults on a timeline);
 * {@link dev.latitude.testkit.RttMatrix} and {@link dev.latitude.testkit.LatencyModel} (realistic inter-region
 * latency with jitter and heavy tails).
 */
package dev.latitude.testkit;
