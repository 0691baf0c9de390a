package dev.latitude;

/** What a region may serve: writes, reads, or both. */
public enum RegionRole {
    /** The region accepts writes (single-writer setups have exactly one writer region per data class). */
    WRITER,
    /** The region serves reads. */
    READER
}
