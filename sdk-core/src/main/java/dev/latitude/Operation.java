package dev.latitude;

import io.opentelemetry.api.common.Attributes;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * Describes one logical call for the engine: what it is, whether it reads or writes, whether it is safe to repeat,
 * which data it touches, and who it is for. Immutable; adapters may cache instances that have no key.
 *
 * <pre>{@code
 * Operation get = Operation.read("GetItem").dataClass("orders").key("order#42").build();
 * Operation put = Operation.write("PutItem").idempotent(true).dataClass("orders").build();
 * }</pre>
 *
 * <p>Defaults: reads are idempotent and writes are not; no data class or key; the caller is the local region;
 * the engine's default deadline; the data class's consistency level; the session of the current context.
 */
public final class Operation {
    /** Whether an operation reads or writes. */
    public enum Kind {
        /** Reads data; may be hedged and retried in another region when idempotent. */
        READ,
        /** Writes data; goes to a writer region. */
        WRITE
    }

    private final String name;
    private final Kind kind;
    private final boolean idempotent;
    private final String dataClass;
    private final String key;
    private final String callerCountry;
    private final String callerJurisdiction;
    private final GeoPoint callerLocation;
    private final Duration deadline;
    private final ConsistencyLevel consistency;
    private final Session session;
    private final Attributes attributes;

    private Operation(Builder b) {
        this.name = b.name;
        this.kind = b.kind;
        this.idempotent = b.idempotent;
        this.dataClass = b.dataClass;
        this.key = b.key;
        this.callerCountry = b.callerCountry;
        this.callerJurisdiction = b.callerJurisdiction;
        this.callerLocation = b.callerLocation;
        this.deadline = b.deadline;
        this.consistency = b.consistency;
        this.session = b.session;
        this.attributes = b.attributes;
    }

    /**
     * Starts a read named {@code name} (idempotent by default).
     *
     * @param name the operation name used in spans and errors, such as {@code GetItem}
     * @return a builder
     */
    public static Builder read(String name) {
        return new Builder(name, Kind.READ, true);
    }

    /**
     * Starts a write named {@code name} (not idempotent unless {@link Builder#idempotent(boolean)} says so).
     *
     * @param name the operation name used in spans and errors, such as {@code PutItem}
     * @return a builder
     */
    public static Builder write(String name) {
        return new Builder(name, Kind.WRITE, false);
    }

    /** Returns a builder holding this operation's settings. */
    public Builder toBuilder() {
        Builder b = new Builder(name, kind, idempotent);
        b.dataClass = dataClass;
        b.key = key;
        b.callerCountry = callerCountry;
        b.callerJurisdiction = callerJurisdiction;
        b.callerLocation = callerLocation;
        b.deadline = deadline;
        b.consistency = consistency;
        b.session = session;
        b.attributes = attributes;
        return b;
    }

    /** Returns the operation name. */
    public String name() {
        return name;
    }

    /** Returns whether it reads or writes. */
    public Kind kind() {
        return kind;
    }

    /** Returns whether the operation is a read. */
    public boolean isRead() {
        return kind == Kind.READ;
    }

    /** Returns whether repeating the operation has the same effect as running it once. */
    public boolean idempotent() {
        return idempotent;
    }

    /** Returns the data class (table, bucket, schema), or {@code null}. */
    public String dataClass() {
        return dataClass;
    }

    /**
     * Returns the key within the data class, or {@code null}. It may be personal data: Latitude does not log it or put
     * it on spans unless {@link SensitiveData#PROPERTY} is set.
     */
    public String key() {
        return key;
    }

    /** Returns the caller's ISO 3166 country code, or {@code null} if unknown. */
    public String callerCountry() {
        return callerCountry;
    }

    /** Returns the caller's jurisdiction, or {@code null} to use the local region's. */
    public String callerJurisdiction() {
        return callerJurisdiction;
    }

    /** Returns the caller's location, or {@code null} to use the local region's. */
    public GeoPoint callerLocation() {
        return callerLocation;
    }

    /** Returns this call's overall deadline, or {@code null} for the engine's default. */
    public Duration deadline() {
        return deadline;
    }

    /** Returns the consistency level asked for, or {@code null} for the data class's default. */
    public ConsistencyLevel consistency() {
        return consistency;
    }

    /** Returns the session given explicitly, or {@code null} to use the one in the current context (if any). */
    public Session session() {
        return session;
    }

    /** Returns the attributes adapters add to the call's span (such as {@code db.system}); empty by default. */
    public Attributes attributes() {
        return attributes;
    }

    /**
     * Describes the operation for logs: its name, kind, data class and key. The key is shown as a
     * {@linkplain SensitiveData#fingerprint(String) fingerprint} ({@code GetItem(READ, idempotent, orders, key
     * #3f9a0c12d4e5)}) unless {@link SensitiveData#PROPERTY} asks for values ({@code GetItem(READ, idempotent,
     * orders/order#42)}).
     */
    @Override
    public String toString() {
        String k = key == null ? "" : SensitiveData.shown() ? "/" + key : ", key " + SensitiveData.fingerprint(key);
        return name + "(" + kind + (idempotent ? ", idempotent" : "") + (dataClass == null ? "" : ", " + dataClass)
                + k + ")";
    }

    /** Builds an {@link Operation}. */
    public static final class Builder {
        private final String name;
        private final Kind kind;
        private boolean idempotent;
        private String dataClass;
        private String key;
        private String callerCountry;
        private String callerJurisdiction;
        private GeoPoint callerLocation;
        private Duration deadline;
        private ConsistencyLevel consistency;
        private Session session;
        private Attributes attributes = Attributes.empty();

        private Builder(String name, Kind kind, boolean idempotent) {
            if (name == null || name.isBlank()) {
                throw new LatitudeConfigException("operation.name", "'" + name + "' is empty; name the operation,"
                        + " such as 'GetItem', so spans and errors can say what failed");
            }
            this.name = name;
            this.kind = kind;
            this.idempotent = idempotent;
        }

        /**
         * Says whether the operation may be repeated safely (a PUT of a whole item is; an increment is not).
         *
         * @param idempotent whether it is idempotent
         * @return this builder
         */
        public Builder idempotent(boolean idempotent) {
            this.idempotent = idempotent;
            return this;
        }

        /**
         * Sets the data class: the table, bucket or schema the call touches.
         *
         * @param dataClass the name
         * @return this builder
         */
        public Builder dataClass(String dataClass) {
            this.dataClass = Objects.requireNonNull(dataClass, "dataClass");
            return this;
        }

        /**
         * Sets the key within the data class.
         *
         * @param key the key
         * @return this builder
         */
        public Builder key(String key) {
            this.key = Objects.requireNonNull(key, "key");
            return this;
        }

        /**
         * Sets the caller's country, used by geolocation routing.
         *
         * @param isoCountry an ISO 3166-1 alpha-2 code such as {@code DE}; case does not matter
         * @return this builder
         * @throws LatitudeConfigException if it is not two letters
         */
        public Builder callerCountry(String isoCountry) {
            if (isoCountry == null || !isoCountry.matches("[A-Za-z]{2}")) {
                throw new LatitudeConfigException("operation.callerCountry", "'" + isoCountry
                        + "' is not an ISO 3166-1 alpha-2 country code; use two letters such as 'DE' or 'US'");
            }
            this.callerCountry = isoCountry.toUpperCase(Locale.ROOT);
            return this;
        }

        /**
         * Sets the caller's jurisdiction, used by geolocation routing.
         *
         * @param jurisdiction a code such as {@code EU}
         * @return this builder
         */
        public Builder callerJurisdiction(String jurisdiction) {
            this.callerJurisdiction = Objects.requireNonNull(jurisdiction, "callerJurisdiction");
            return this;
        }

        /**
         * Sets where the caller is, used by geoproximity routing.
         *
         * @param location the caller's location
         * @return this builder
         */
        public Builder callerLocation(GeoPoint location) {
            this.callerLocation = Objects.requireNonNull(location, "callerLocation");
            return this;
        }

        /**
         * Sets this call's overall deadline, over all attempts and regions.
         *
         * @param deadline a positive duration
         * @return this builder
         * @throws LatitudeConfigException if not positive
         */
        public Builder deadline(Duration deadline) {
            if (deadline == null || deadline.isNegative() || deadline.isZero()) {
                throw new LatitudeConfigException("operation.deadline", LatitudeConfigException.format(deadline) + " is not positive; give the"
                        + " longest the caller will wait for this call, such as Duration.ofSeconds(2)");
            }
            this.deadline = deadline;
            return this;
        }

        /**
         * Asks for a consistency level for this call instead of the data class's default.
         *
         * @param level the level
         * @return this builder
         */
        public Builder consistency(ConsistencyLevel level) {
            this.consistency = Objects.requireNonNull(level, "consistency");
            return this;
        }

        /**
         * Sets the session whose writes this call must see (reads) or advances (writes); without it, the session in
         * the current OpenTelemetry context is used, if any.
         *
         * @param session the session
         * @return this builder
         */
        public Builder session(Session session) {
            this.session = Objects.requireNonNull(session, "session");
            return this;
        }

        /**
         * Sets attributes for the call's span, such as {@code db.system} and the table; adapters build them once per
         * table and operation so that a call allocates nothing for them.
         *
         * @param attributes the attributes
         * @return this builder
         */
        public Builder attributes(Attributes attributes) {
            this.attributes = Objects.requireNonNull(attributes, "attributes");
            return this;
        }

        /** Returns the operation. */
        public Operation build() {
            return new Operation(this);
        }
    }
}
