/**
 * Fake regions on one machine for Latitude's own tests, benchmarks and demo, and for users' tests:
 * {@link dev.latitude.testkit.FakeRegion} (an HTTP region on 127.0.0.1 with runtime faults),
 * {@link dev.latitude.testkit.FakeRegions} and {@link dev.latitude.testkit.FakeRegionClient}.
 */
package dev.latitude.testkit;
