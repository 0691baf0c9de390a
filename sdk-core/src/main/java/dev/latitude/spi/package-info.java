/**
 * Extension points that adapters and tests implement: {@link dev.latitude.spi.ErrorClassifier} (what a failure
 * means), {@link dev.latitude.spi.HealthProbe} (an active check of a region), {@link dev.latitude.spi.Ticker} and
 * {@link dev.latitude.spi.Scheduler} (time, replaceable in tests).
 */
package dev.latitude.spi;
