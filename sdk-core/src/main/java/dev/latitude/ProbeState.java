package dev.latitude;

/** What a region's active health probe last concluded. */
public enum ProbeState {
    /** No probe is configured, or too few probes have run to decide. */
    UNKNOWN,
    /** The success threshold of consecutive probes passed. */
    UP,
    /** The failure threshold of consecutive probes failed: the region is planned only behind every other region. */
    DOWN
}
