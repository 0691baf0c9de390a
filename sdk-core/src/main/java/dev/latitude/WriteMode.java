package dev.latitude;

/** Where a data class may be written. */
public enum WriteMode {
    /** Writes go to one writer region (the data policy's, else the topology's writer regions); reads go anywhere. */
    SINGLE_WRITER,
    /** Active-active: every allowed region takes writes; concurrent writes resolve last-writer-wins. */
    MULTI_WRITER
}
