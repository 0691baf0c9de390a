/**
 * Latitude's public API: the region routing engine ({@link dev.latitude.Latitude}), its topology
 * ({@link dev.latitude.Topology}, {@link dev.latitude.RegionSpec}), the description of a call
 * ({@link dev.latitude.Operation}), routing policies ({@link dev.latitude.RoutingPolicy}), health and hedging settings,
 * and the exceptions a call can end with (all subtypes of {@link dev.latitude.LatitudeException}).
 */
package dev.latitude;
