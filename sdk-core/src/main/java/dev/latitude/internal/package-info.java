/**
 * The engine's implementation. Not an API: its types may change in any release; use {@code dev.latitude} and
 * {@code dev.latitude.spi}.
 */
package dev.latitude.internal;
