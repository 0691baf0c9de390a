package dev.latitude.dynamodb;

import dev.latitude.LatitudeConfigException;
import java.time.Duration;
import java.util.Objects;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * Settings of the replication heartbeats that tell the planner how far each region has caught up with the others.
 *
 * <p>Every {@link #interval()} the client puts one small item per writer region into that region's replica of a
 * dedicated global table ({@code pk = "hb#<region>"}, the write stamp attribute = the current hybrid-logical-clock
 * time), and reads back, in every region, the heartbeats that region has received from the others. A region that
 * holds heartbeat {@code t} from region {@code R} has applied {@code R}'s writes up to about {@code t}; SESSION reads
 * of a table as a whole (Query, Scan, batches) and BOUNDED_STALENESS reads use it to pick replicas that are provably
 * recent enough, and a region that is behind is skipped rather than read and found stale.
 *
 * <p>The table must exist as a global table in every region of the topology before the client is built; create it
 * with {@link #createTableRequest()} (partition key {@code pk}, string; on-demand). Each client process writes one item
 * per writer region per interval: at 1 s and 100 processes that is 100 write units per second per region. Processes
 * that only read can {@link Builder#writer(boolean) turn writing off} and still read the others' heartbeats.
 *
 * <p>The watermarks assume a region applies one source region's writes roughly in order. DynamoDB global tables
 * replicate items independently, so for single items Latitude prefers the item's own write stamp (GetItem is verified
 * against it) and uses heartbeats where no single item can tell.
 */
public final class HeartbeatConfig {
    /** The default heartbeat table name. */
    public static final String DEFAULT_TABLE = "latitude_heartbeats";
    /** The partition key attribute of the heartbeat table. */
    public static final String PARTITION_KEY = "pk";

    private final String table;
    private final Duration interval;
    private final Duration timeout;
    private final boolean writer;
    private final Duration reorderMargin;

    private HeartbeatConfig(Builder b) {
        this.table = b.table;
        this.interval = b.interval;
        this.timeout = b.timeout != null ? b.timeout : b.interval.multipliedBy(2).compareTo(Duration.ofSeconds(2)) < 0
                ? b.interval.multipliedBy(2) : Duration.ofSeconds(2);
        this.writer = b.writer;
        this.reorderMargin = b.reorderMargin;
    }

    /**
     * Returns the defaults: table {@value #DEFAULT_TABLE}, every second, timeout 2 s, writing heartbeats, reorder
     * margin 500 ms.
     */
    public static HeartbeatConfig defaults() {
        return builder().build();
    }

    /** Returns a builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the heartbeat table name. */
    public String table() {
        return table;
    }

    /** Returns how often heartbeats are written and read. */
    public Duration interval() {
        return interval;
    }

    /** Returns the timeout of one heartbeat write or read. */
    public Duration timeout() {
        return timeout;
    }

    /** Returns whether this process writes heartbeats (it always reads them). */
    public boolean writer() {
        return writer;
    }

    /**
     * Returns how much earlier than a heartbeat's stamp a region is taken to have applied everything: replication is
     * not strictly ordered (items and tables replicate independently), so a write may arrive a little after a later
     * heartbeat; the margin absorbs that much reordering.
     */
    public Duration reorderMargin() {
        return reorderMargin;
    }

    /**
     * Returns the request that creates the heartbeat table in one region (create it in every region and make it a
     * global table, or use your infrastructure tooling with the same key schema).
     */
    public CreateTableRequest createTableRequest() {
        return CreateTableRequest.builder().tableName(table)
                .keySchema(KeySchemaElement.builder().attributeName(PARTITION_KEY).keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName(PARTITION_KEY)
                        .attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .build();
    }

    @Override
    public String toString() {
        return "HeartbeatConfig[table=" + table + ", interval=" + interval + ", timeout=" + timeout + ", writer="
                + writer + ", reorderMargin=" + reorderMargin + "]";
    }

    /** Builds a {@link HeartbeatConfig}. */
    public static final class Builder {
        private String table = DEFAULT_TABLE;
        private Duration interval = Duration.ofSeconds(1);
        private Duration timeout;
        private boolean writer = true;
        private Duration reorderMargin = Duration.ofMillis(500);

        private Builder() {
        }

        /**
         * Sets the heartbeat table.
         *
         * @param table a DynamoDB table name (3–255 of {@code a-z A-Z 0-9 _ - .})
         * @return this builder
         * @throws LatitudeConfigException if it is not a valid table name
         */
        public Builder table(String table) {
            if (table == null || !table.matches("[A-Za-z0-9_.\\-]{3,255}")) {
                throw new LatitudeConfigException("heartbeats.table", "'" + table + "' is not a DynamoDB table name;"
                        + " use 3 to 255 letters, digits, '_', '-' or '.'");
            }
            this.table = table;
            return this;
        }

        /**
         * Sets how often heartbeats are written and read: the freshness of the watermarks (a region is known to be
         * caught up about one interval after it is).
         *
         * @param interval between 10 ms and 1 minute
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder interval(Duration interval) {
            this.interval = range("heartbeats.interval", interval);
            return this;
        }

        /**
         * Sets the timeout of one heartbeat write or read (default: twice the interval, at most 2 s).
         *
         * @param timeout between 10 ms and 1 minute
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder timeout(Duration timeout) {
            this.timeout = range("heartbeats.timeout", timeout);
            return this;
        }

        /**
         * Says whether this process writes heartbeats; turn it off in processes that only read, as long as some
         * process in each writer region writes them.
         *
         * @param writer whether to write
         * @return this builder
         */
        public Builder writer(boolean writer) {
            this.writer = writer;
            return this;
        }

        /**
         * Sets the reorder margin (see {@link HeartbeatConfig#reorderMargin()}): larger is safer, and keeps a
         * session's table-wide reads on the writer that much longer after its writes.
         *
         * @param margin between zero and 1 minute
         * @return this builder
         * @throws LatitudeConfigException if out of range
         */
        public Builder reorderMargin(Duration margin) {
            Objects.requireNonNull(margin, "heartbeats.reorderMargin");
            if (margin.isNegative() || margin.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new LatitudeConfigException("heartbeats.reorderMargin", margin + " is outside [0, 1 min]; give"
                        + " something like Duration.ofMillis(500)");
            }
            this.reorderMargin = margin;
            return this;
        }

        /** Returns the settings. */
        public HeartbeatConfig build() {
            return new HeartbeatConfig(this);
        }

        private static Duration range(String setting, Duration d) {
            Objects.requireNonNull(d, setting);
            if (d.compareTo(Duration.ofMillis(10)) < 0 || d.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new LatitudeConfigException(setting, LatitudeConfigException.format(d) + " is outside [10 ms, 1 min]; give something like"
                        + " Duration.ofSeconds(1)");
            }
            return d;
        }
    }
}
