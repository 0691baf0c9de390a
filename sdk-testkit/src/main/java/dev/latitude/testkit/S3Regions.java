package dev.latitude.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;

/**
 * A lab of emulated S3 regions on one machine: one S3Proxy server per region, started in this JVM on a free port of
 * 127.0.0.1, each behind a {@link TcpFaultProxy} front whose faults (blackhole, refused connections, latency, resets,
 * flapping) the region's clients see.
 *
 * <p>Each server keeps its buckets in its own blob store: in memory ({@link Storage#MEMORY}, the default) or in a
 * temporary folder deleted on {@link #close()} ({@link Storage#FILESYSTEM}). Both keep object versions for buckets
 * with versioning enabled. Servers accept any credentials and signature (S3Proxy's authentication is off), so SigV4
 * and SigV4a requests are both answered, and they ignore headers they do not know (such as
 * {@code x-amz-checksum-*} and {@code x-amz-replication-status}) rather than refusing the request.
 *
 * <p>Clients of the lab ({@link Region#client()}, {@link #clientBuilder(Region)}) use path-style addressing, static
 * dummy credentials ({@link #credentials()}), no chunked payload encoding (the plain-HTTP server would store the
 * chunk signatures) and checksums only where an operation requires them.
 *
 * <p>{@link #replication()} replicates buckets between the regions like S3 Cross-Region Replication
 * ({@link S3ReplicationEmulator}); {@link S3MrapEndpoints} sends requests to a Multi-Region Access Point ARN to the
 * lab's regions, and {@link S3ControlStubs} stands in for S3 Control's route dials.
 *
 * <pre>{@code
 * try (S3Regions lab = S3Regions.builder().regions("us-east-1", "eu-west-1").build()) {
 *     S3Regions.Region us = lab.region("us-east-1");
 *     us.createBucket("orders-us");
 *     us.client().putObject(b -> b.bucket("orders-us").key("k"), RequestBody.fromString("v"));
 *     us.proxy().apply(Fault.blackhole());   // us.client() now hangs; the server itself is untouched
 * }
 * }</pre>
 */
public final class S3Regions implements AutoCloseable {
    private static final String LOOPBACK = "127.0.0.1";
    private static final AwsCredentialsProvider CREDENTIALS =
            StaticCredentialsProvider.create(AwsBasicCredentials.create("latitudelocal", "latitudelocal"));

    /** Where each region's server keeps its objects. */
    public enum Storage {
        /** In memory (an in-memory file system): fast, gone on close. */
        MEMORY,
        /** In a temporary folder of the default file system, one per region, deleted on close. */
        FILESYSTEM
    }

    private final Map<String, Region> regions;
    private final Path storageRoot;
    private final S3ReplicationEmulator replication;
    private final S3ReplicationStatusInterceptor statusInterceptor;

    private S3Regions(Map<String, Region> regions, Path storageRoot, ReplicationLag lag) {
        this.regions = Collections.unmodifiableMap(regions);
        this.storageRoot = storageRoot;
        Map<String, S3BlobStoreTap> taps = new LinkedHashMap<>();
        regions.forEach((name, r) -> taps.put(name, r.store));
        this.replication = new S3ReplicationEmulator(taps, lag);
        this.statusInterceptor = new S3ReplicationStatusInterceptor(this);
        regions.values().forEach(r -> r.lab = this);
    }

    /**
     * Starts one in-memory region per name, in order.
     *
     * @param names one or more distinct region names, such as {@code us-east-1}
     * @return the running lab
     */
    public static S3Regions start(String... names) {
        return builder().regions(names).build();
    }

    /** Returns a builder of a lab; at least the region names must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the dummy static credentials the lab's clients use; the servers accept any. */
    public static AwsCredentialsProvider credentials() {
        return CREDENTIALS;
    }

    /**
     * Returns a sync client builder pointed at the region's fault front, configured as the lab's clients are (see the
     * class comment); the caller may change anything and builds and closes the client.
     *
     * @param region a region of a lab
     * @return the builder
     */
    public static S3ClientBuilder clientBuilder(Region region) {
        return configure(S3Client.builder(), region);
    }

    /**
     * Configures {@code builder} as {@link #clientBuilder(Region)} does, for a builder someone else made (a
     * multi-region client's {@code buildClients(...)}).
     *
     * @param builder a sync client builder
     * @param region a region of a lab
     * @return the builder
     */
    public static S3ClientBuilder configure(S3ClientBuilder builder, Region region) {
        return configured(builder, region, region.endpoint()).httpClientBuilder(UrlConnectionHttpClient.builder());
    }

    /**
     * Configures {@code builder} as {@link #asyncClientBuilder(Region)} does, for a builder someone else made.
     *
     * @param builder an async client builder
     * @param region a region of a lab
     * @return the builder
     */
    public static S3AsyncClientBuilder configure(S3AsyncClientBuilder builder, Region region) {
        return configured(builder, region, region.endpoint());
    }

    /**
     * Returns an async client builder pointed at the region's fault front, configured as {@link #clientBuilder(Region)}
     * (with the SDK's default async HTTP client); the caller builds and closes the client.
     *
     * @param region a region of a lab
     * @return the builder
     */
    public static S3AsyncClientBuilder asyncClientBuilder(Region region) {
        return configured(S3AsyncClient.builder(), region, region.endpoint());
    }

    private static <B extends software.amazon.awssdk.services.s3.S3BaseClientBuilder<B, ?>> B configured(
            B builder, Region region, URI endpoint) {
        return builder.endpointOverride(endpoint)
                .region(software.amazon.awssdk.regions.Region.of(region.name()))
                .credentialsProvider(CREDENTIALS)
                .addPlugin(region.lab.statusInterceptor.plugin())
                .serviceConfiguration(S3Configuration.builder()
                        .pathStyleAccessEnabled(true)
                        .chunkedEncodingEnabled(false)
                        .build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    }

    /**
     * Returns the region named {@code name}.
     *
     * @param name a region name
     * @return the region
     * @throws NoSuchElementException if the lab has none of that name
     */
    public Region region(String name) {
        Region r = regions.get(name);
        if (r == null) {
            throw new NoSuchElementException("no S3 region " + name + "; started: " + regions.keySet());
        }
        return r;
    }

    /** Returns the regions in start order. */
    public List<Region> regions() {
        return List.copyOf(regions.values());
    }

    /** Returns the region names in start order. */
    public List<String> names() {
        return List.copyOf(regions.keySet());
    }

    /**
     * Returns the replication between the regions' buckets: rules, lag, stalls, statuses, {@code awaitQuiescent}.
     * Nothing replicates until a rule is added.
     */
    public S3ReplicationEmulator replication() {
        return replication;
    }

    /** Returns the interceptor that adds {@code x-amz-replication-status} to the lab's GET and HEAD responses. */
    S3ReplicationStatusInterceptor statusInterceptor() {
        return statusInterceptor;
    }

    /** Returns the region whose front or server listens on {@code port}, if any. */
    Optional<Region> regionAtPort(int port) {
        return regions.values().stream()
                .filter(r -> r.endpoint.getPort() == port || r.serverEndpoint.getPort() == port)
                .findFirst();
    }

    /** Returns each region name's fault-front endpoint, in start order. */
    public Map<String, URI> endpoints() {
        Map<String, URI> map = new LinkedHashMap<>();
        regions.forEach((name, r) -> map.put(name, r.endpoint()));
        return map;
    }

    /** Stops replication, every region (clients, front, server), then deletes the lab's storage folder if any. */
    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        try {
            replication.close();
        } catch (RuntimeException e) {
            failures.add(e);
        }
        for (Region r : regions.values()) {
            r.stop(failures);
        }
        if (storageRoot != null) {
            try {
                deleteRecursively(storageRoot);
            } catch (UncheckedIOException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    @Override
    public String toString() {
        return "S3Regions" + endpoints();
    }

    private static void deleteRecursively(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null) {
                        throw e;
                    }
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete the S3 lab's storage folder " + root, e);
        }
    }

    /**
     * Builds an {@link S3Regions} lab. Each setting may be set once.
     */
    public static final class Builder {
        private List<String> names;
        private Storage storage;
        private ReplicationLag replicationLag;

        private Builder() {
        }

        /**
         * Sets the region names, one server each, started in this order.
         *
         * @param names one or more distinct, non-blank names
         * @return this builder
         * @throws IllegalArgumentException if none is given, one is blank, or one repeats
         * @throws IllegalStateException if the names were already set
         */
        public Builder regions(String... names) {
            return regions(List.of(names));
        }

        /**
         * Sets the region names, as {@link #regions(String...)}.
         *
         * @param names one or more distinct, non-blank names
         * @return this builder
         */
        public Builder regions(List<String> names) {
            Objects.requireNonNull(names, "names");
            if (this.names != null) {
                throw new IllegalStateException("regions were already set to " + this.names);
            }
            if (names.isEmpty()) {
                throw new IllegalArgumentException("an S3 lab needs at least one region name");
            }
            if (names.stream().anyMatch(String::isBlank)) {
                throw new IllegalArgumentException("region names must not be blank, got " + names);
            }
            if (new LinkedHashSet<>(names).size() != names.size()) {
                throw new IllegalArgumentException("region names must be distinct, got " + names);
            }
            this.names = List.copyOf(names);
            return this;
        }

        /**
         * Sets where the servers keep objects; {@link Storage#MEMORY} if unset.
         *
         * @param storage the storage
         * @return this builder
         * @throws IllegalStateException if it was already set
         */
        public Builder storage(Storage storage) {
            Objects.requireNonNull(storage, "storage");
            if (this.storage != null) {
                throw new IllegalStateException("storage was already set to " + this.storage);
            }
            this.storage = storage;
            return this;
        }

        /**
         * Sets the lag of {@link S3Regions#replication()} at start; {@link ReplicationLag#none()} if unset (it can be
         * changed later with {@link S3ReplicationEmulator#lag(ReplicationLag)}).
         *
         * @param lag the lag model
         * @return this builder
         * @throws IllegalStateException if it was already set
         */
        public Builder replicationLag(ReplicationLag lag) {
            Objects.requireNonNull(lag, "lag");
            if (this.replicationLag != null) {
                throw new IllegalStateException("replicationLag was already set to " + this.replicationLag);
            }
            this.replicationLag = lag;
            return this;
        }

        /**
         * Starts the regions: each server, then its fault front.
         *
         * @return the running lab
         * @throws IllegalStateException if no region names were set, or a server cannot start (those started are
         *     stopped)
         */
        public S3Regions build() {
            if (names == null) {
                throw new IllegalStateException("set the region names with regions(...) before build()");
            }
            Storage chosen = storage == null ? Storage.MEMORY : storage;
            Path root = null;
            Map<String, Region> started = new LinkedHashMap<>();
            try {
                if (chosen == Storage.FILESYSTEM) {
                    root = Files.createTempDirectory("latitude-s3-");
                }
                for (String name : names) {
                    BlobStore store = root == null ? new TransientNio2BlobStore()
                            : new FilesystemNio2BlobStore(Files.createDirectory(root.resolve(name)).toString());
                    started.put(name, Region.start(name, new S3BlobStoreTap(name, store)));
                }
                return new S3Regions(started, root,
                        replicationLag == null ? ReplicationLag.none() : replicationLag);
            } catch (IOException | RuntimeException e) {
                List<RuntimeException> failures = new ArrayList<>();
                started.values().forEach(r -> r.stop(failures));
                IllegalStateException failure = new IllegalStateException("could not start S3 regions " + names
                        + " (" + chosen + " storage): " + e.getMessage(), e);
                failures.forEach(failure::addSuppressed);
                if (root != null) {
                    try {
                        deleteRecursively(root);
                    } catch (UncheckedIOException suppressed) {
                        failure.addSuppressed(suppressed);
                    }
                }
                throw failure;
            }
        }
    }

    /**
     * One emulated S3 region of a lab: an S3Proxy server and its fault front. Closed with the lab.
     */
    public static final class Region {
        private final String name;
        private final S3BlobStoreTap store;
        private final S3Proxy server;
        private final URI serverEndpoint;
        private final TcpFaultProxy proxy;
        private final URI endpoint;
        private S3Client client;
        private S3AsyncClient asyncClient;
        private S3Client adminClient;
        private S3Regions lab;

        private Region(String name, S3BlobStoreTap store, S3Proxy server, TcpFaultProxy proxy) {
            this.name = name;
            this.store = store;
            this.server = server;
            this.serverEndpoint = URI.create("http://" + LOOPBACK + ":" + server.getPort());
            this.proxy = proxy;
            this.endpoint = URI.create("http://" + proxy.host() + ":" + proxy.port());
        }

        private static Region start(String name, S3BlobStoreTap store) {
            S3Proxy server = S3Proxy.builder()
                    .blobStore(store)
                    .endpoint(URI.create("http://" + LOOPBACK + ":0"))
                    .awsAuthentication(AuthenticationType.NONE, null, null)
                    .ignoreUnknownHeaders(true)
                    .metricsEnabled(false)
                    // No graceful drain on stop: its wait costs every lab seconds, and a lab stops with its clients.
                    .stopTimeout(0)
                    .build();
            try {
                server.start();
            } catch (Exception e) {
                throw new IllegalStateException("S3Proxy for region " + name + " did not start: " + e, e);
            }
            TcpFaultProxy proxy;
            try {
                proxy = TcpFaultProxy.start("s3-" + name, LOOPBACK, server.getPort());
            } catch (RuntimeException e) {
                stopServer(server, name, e);
                throw e;
            }
            return new Region(name, store, server, proxy);
        }

        /** Returns the region's name, such as {@code eu-west-1}. */
        public String name() {
            return name;
        }

        /** Returns the endpoint of the region's fault front: clients that use it see the front's faults. */
        public URI endpoint() {
            return endpoint;
        }

        /** Returns the endpoint of the server itself, behind the front: no faults apply to it. */
        public URI serverEndpoint() {
            return serverEndpoint;
        }

        /** Returns the region's fault front. */
        public TcpFaultProxy proxy() {
            return proxy;
        }

        /**
         * Creates a bucket on the region's server, going around the fault front (so it works whatever fault is
         * applied).
         *
         * @param bucket the bucket name
         */
        public void createBucket(String bucket) {
            adminClient().createBucket(b -> b.bucket(bucket));
        }

        /**
         * Turns versioning on for a bucket of this region, going around the fault front: from then on every write
         * gets a version id and a delete leaves a delete marker.
         *
         * @param bucket an existing bucket of this region
         */
        public void enableVersioning(String bucket) {
            adminClient().putBucketVersioning(b -> b.bucket(bucket)
                    .versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        }

        /**
         * Returns the region's shared client that goes to its server directly, around the fault front: for setting up
         * and checking a test's data, and for replication. Closed with the lab; do not close it.
         */
        public synchronized S3Client adminClient() {
            if (adminClient == null) {
                adminClient = configured(S3Client.builder(), this, serverEndpoint)
                        .httpClientBuilder(UrlConnectionHttpClient.builder())
                        .build();
            }
            return adminClient;
        }

        /**
         * Returns the region's shared sync client, through the fault front, configured as {@link #clientBuilder(Region)}.
         * Closed with the lab; do not close it.
         */
        public synchronized S3Client client() {
            if (client == null) {
                client = clientBuilder(this).build();
            }
            return client;
        }

        /**
         * Returns the region's shared async client, through the fault front, configured as
         * {@link #asyncClientBuilder(Region)}. Closed with the lab; do not close it.
         */
        public synchronized S3AsyncClient asyncClient() {
            if (asyncClient == null) {
                asyncClient = asyncClientBuilder(this).build();
            }
            return asyncClient;
        }

        @Override
        public String toString() {
            return "S3 region " + name + " at " + endpoint + " (server " + serverEndpoint + ")";
        }

        /** Stops clients, front and server, adding each failure to {@code failures} and going on. */
        private void stop(List<RuntimeException> failures) {
            synchronized (this) {
                for (AutoCloseable c : new AutoCloseable[] {client, asyncClient, adminClient, proxy}) {
                    if (c == null) {
                        continue;
                    }
                    try {
                        c.close();
                    } catch (Exception e) {
                        failures.add(e instanceof RuntimeException re ? re
                                : new IllegalStateException("closing " + c + " failed", e));
                    }
                }
            }
            try {
                stopServer(server, name, null);
            } catch (IllegalStateException e) {
                failures.add(e);
            }
        }

        private static void stopServer(S3Proxy server, String name, RuntimeException cause) {
            try {
                server.stop();
            } catch (Exception e) {
                if (cause != null) {
                    cause.addSuppressed(e);
                    return;
                }
                throw new IllegalStateException("S3Proxy for region " + name + " did not stop: " + e, e);
            }
        }
    }
}
