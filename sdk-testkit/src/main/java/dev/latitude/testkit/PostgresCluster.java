package dev.latitude.testkit;

import dev.latitude.LatitudeConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL 15 cluster on this machine for tests: one primary and N streaming hot-standby replicas, each in
 * a temporary directory, on free ports of 127.0.0.1, each behind a {@link TcpFaultProxy} so faults can be put between
 * clients and a node.
 *
 * <p>Clients connect through the proxy ({@link Node#jdbcUrl()}, {@link Node#proxyPort()}) as user {@value #USER}
 * without a password (trust authentication on 127.0.0.1). Replication and the cluster's own controls connect to the
 * nodes directly ({@link Node#port()}), so a fault on a node's proxy cuts off clients, not replication, and the
 * controls keep working. Controls run SQL over JDBC (the PostgreSQL driver).
 *
 * <p>Needs only Java and Maven: the server binaries ({@code initdb} and {@code postgres}) come from
 * {@link PostgresBinaries}, which takes, in this order, {@link Builder#binDir(Path)} or the system property
 * {@value PostgresBinaries#BIN_PROPERTY}, a system install of PostgreSQL 15 (such as Debian's in
 * {@value #DEFAULT_BIN_DIR}), else the PostgreSQL bundle the testkit's POM brings from Maven for this platform. To run
 * against a system install, set {@code -Dlatitude.postgres.bin=/usr/lib/postgresql/15/bin}; to run against the bundle
 * even where one is installed, {@code -Dlatitude.postgres.bin=bundled}. Replicas are made from a base backup taken with
 * SQL and a file copy ({@code pg_backup_start} / {@code pg_backup_stop}), so no {@code pg_basebackup} is needed.
 *
 * <p>PostgreSQL refuses to run as root: when the JVM runs as root, the server binaries run as an unprivileged user
 * ({@code nobody} unless {@link Builder#osUser(String)} says otherwise) through {@code setpriv}, whichever source they
 * come from; otherwise they run as the JVM's user.
 *
 * <p>{@link #close()} stops every process and deletes the temporary directories; a JVM shutdown hook does the same for
 * clusters left open, and {@link #start()} removes what a killed JVM left behind.
 *
 * <pre>{@code
 * try (PostgresCluster pg = PostgresCluster.builder().replicas(2).build().start()) {
 *     PostgresCluster.Node replica = pg.replica(1);
 *     pg.pauseReplay(replica);
 *     // ... writes on pg.primary() are not visible on replica ...
 *     replica.proxy().apply(Fault.blackhole());
 *     // ... clients of replica.jdbcUrl() hang ...
 * }
 * }</pre>
 */
public final class PostgresCluster implements AutoCloseable {
    /** The database superuser clients connect as, without a password. */
    public static final String USER = "postgres";
    /** Where Debian's postgresql-15 package puts the server binaries. */
    public static final String DEFAULT_BIN_DIR = "/usr/lib/postgresql/15/bin";

    private static final Logger LOG = LoggerFactory.getLogger(PostgresCluster.class);
    private static final String DIR_PREFIX = "latitude-pg-";
    private static final String OWNER_FILE = "owner.pid";
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);
    private static final int QUERY_TIMEOUT_SECONDS = 60;
    private static final int CONNECT_TIMEOUT_SECONDS = 5;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(20);
    private static final Set<PostgresCluster> OPEN = ConcurrentHashMap.newKeySet();
    // The driver itself rather than DriverManager, which may not see it from every class loader.
    private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();
    private static final AtomicBoolean HOOK_INSTALLED = new AtomicBoolean();

    private final int replicaCount;
    private final Map<String, String> settings;
    private final Path configuredBinDir;
    private final Path tempRoot;
    private final String osUser;
    private final Duration startTimeout;

    private final List<Node> nodes = new ArrayList<>();
    private Path binDir;
    private List<String> runAsPrefix = List.of();
    private String runAsGid;
    private Path baseDir;
    private Path dataRoot;
    private Path logDir;
    private Duration startupTime;
    private boolean started;
    private volatile boolean closed;

    private PostgresCluster(Builder b) {
        this.replicaCount = b.replicas;
        this.settings = new LinkedHashMap<>(b.settings);
        this.configuredBinDir = b.binDir;
        this.tempRoot = b.tempRoot;
        this.osUser = b.osUser;
        this.startTimeout = b.startTimeout;
    }

    /** Returns a builder: one replica, default settings, binaries found by {@link PostgresBinaries#resolve()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a {@link PostgresCluster} before it starts. */
    public static final class Builder {
        private int replicas = 1;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private Path binDir;
        private Path tempRoot = Path.of(System.getProperty("java.io.tmpdir"));
        private String osUser = "nobody";
        private Duration startTimeout = Duration.ofSeconds(60);

        private Builder() {
        }

        /**
         * Sets how many streaming replicas follow the primary.
         *
         * @param n 0 or more; 1 by default
         * @return this builder
         */
        public Builder replicas(int n) {
            if (n < 0 || n > 16) {
                throw new IllegalArgumentException("replicas must be 0..16, got " + n);
            }
            this.replicas = n;
            return this;
        }

        /**
         * Adds a server setting to every node's {@code postgresql.conf}, overriding the testkit's default for it
         * (such as {@code ("max_connections", "50")}). {@code port} is the testkit's to choose.
         *
         * @param name the parameter name
         * @param value its value, unquoted
         * @return this builder
         */
        public Builder setting(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (!name.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
                throw new IllegalArgumentException("not a PostgreSQL parameter name: '" + name + "'");
            }
            if (name.equalsIgnoreCase("port")) {
                throw new IllegalArgumentException("the port is chosen by PostgresCluster (a free port per node)");
            }
            settings.put(name, value);
            return this;
        }

        /**
         * Sets where the PostgreSQL 15 server binaries are ({@code initdb} and {@code postgres}), such as
         * {@value #DEFAULT_BIN_DIR} or {@link PostgresBinaries#bundled()}; by default
         * {@link PostgresBinaries#resolve()} chooses when the cluster starts.
         *
         * @param dir the directory
         * @return this builder
         */
        public Builder binDir(Path dir) {
            this.binDir = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /**
         * Sets the directory the cluster's temporary directory is made in; {@code java.io.tmpdir} by default. When
         * running as root it must be reachable by the unprivileged user.
         *
         * @param dir an existing directory
         * @return this builder
         */
        public Builder tempRoot(Path dir) {
            this.tempRoot = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /**
         * Sets the unprivileged user the server runs as when the JVM runs as root ({@code nobody} by default);
         * ignored otherwise.
         *
         * @param user an existing user name
         * @return this builder
         */
        public Builder osUser(String user) {
            this.osUser = Objects.requireNonNull(user, "user");
            return this;
        }

        /**
         * Sets how long {@link PostgresCluster#start()} may take in all; 60 s by default.
         *
         * @param timeout more than zero
         * @return this builder
         */
        public Builder startTimeout(Duration timeout) {
            if (timeout == null || timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("startTimeout must be more than zero, got " + timeout);
            }
            this.startTimeout = timeout;
            return this;
        }

        /** Returns a cluster with these settings, not started yet: call {@link PostgresCluster#start()}. */
        public PostgresCluster build() {
            return new PostgresCluster(this);
        }
    }

    /**
     * One PostgreSQL server of the cluster: its own data directory and port, and a {@link TcpFaultProxy} in front that
     * clients connect through.
     */
    public static final class Node {
        private final String name;
        private final int port;
        private final TcpFaultProxy proxy;
        private final Path dataDir;
        private final Path logFile;
        private volatile Process process;

        private Node(String name, int port, TcpFaultProxy proxy, Path dataDir, Path logFile) {
            this.name = name;
            this.port = port;
            this.proxy = proxy;
            this.dataDir = dataDir;
            this.logFile = logFile;
        }

        /** Returns the node's name: {@code primary}, {@code replica-1}, {@code replica-2}, ... */
        public String name() {
            return name;
        }

        /** Returns the port the server itself listens on (127.0.0.1), bypassing the proxy. */
        public int port() {
            return port;
        }

        /** Returns the fault proxy in front of the server. */
        public TcpFaultProxy proxy() {
            return proxy;
        }

        /** Returns the port clients connect to: the proxy's. */
        public int proxyPort() {
            return proxy.port();
        }

        /**
         * Returns the JDBC URL through the proxy, {@code jdbc:postgresql://127.0.0.1:<proxyPort>/postgres}; connect as
         * user {@value PostgresCluster#USER} with no password.
         */
        public String jdbcUrl() {
            return "jdbc:postgresql://127.0.0.1:" + proxyPort() + "/postgres";
        }

        /** Returns the data directory. */
        public Path dataDir() {
            return dataDir;
        }

        /** Returns the server's log file (kept until the cluster is closed). */
        public Path logFile() {
            return logFile;
        }

        /** Returns whether the server process is running. */
        public boolean isRunning() {
            Process p = process;
            return p != null && p.isAlive();
        }

        /** Returns the postmaster's process id, if it is running. */
        public Optional<Long> pid() {
            Process p = process;
            return p != null && p.isAlive() ? Optional.of(p.pid()) : Optional.empty();
        }

        @Override
        public String toString() {
            return name + "(port " + port + ", proxy " + proxyPort() + (isRunning() ? "" : ", stopped") + ")";
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Starting.

    /**
     * Creates and starts the cluster: {@code initdb} and start of the primary, then for each replica a base backup
     * ({@code pg_backup_start}, a copy of the data directory, {@code pg_backup_stop}) set up as a streaming standby
     * and started, and a wait until every replica is streaming. On failure everything started is stopped and removed
     * again. Finding (and the first time extracting) the binaries is not counted in {@link #startupTime()}.
     *
     * @return this cluster, running
     * @throws dev.latitude.LatitudeConfigException if no binaries are found (see {@link PostgresBinaries})
     * @throws IllegalStateException if a step fails (with the server's log), or the start takes longer than the
     *     builder's start timeout
     */
    public synchronized PostgresCluster start() {
        if (started) {
            throw new IllegalStateException("this PostgresCluster was already started; build a new one");
        }
        started = true;
        binDir = configuredBinDir != null ? configuredBinDir : PostgresBinaries.resolve();
        checkBinaries();
        reapOrphans(tempRoot);
        long deadline = System.nanoTime() + startTimeout.toNanos();
        long t0 = System.nanoTime();
        try {
            prepareDirectories();
            createNodes();
            installHook();
            OPEN.add(this);

            Node primary = nodes.get(0);
            runTool(primary, deadline, bin("initdb"), "-D", primary.dataDir.toString(), "-U", USER, "--auth=trust",
                    "--no-sync", "--encoding=UTF8", "--locale=C");
            writeSettings(primary.dataDir.resolve("postgresql.conf"));
            long tInit = System.nanoTime();
            startProcess(primary);
            awaitReady(primary, deadline);
            long tPrimary = System.nanoTime();

            List<Node> replicas = nodes.subList(1, nodes.size());
            if (replicas.size() == 1) {
                startReplica(replicas.get(0), deadline);
            } else if (!replicas.isEmpty()) {
                ExecutorService pool = Executors.newFixedThreadPool(Math.min(replicas.size(), 4), r -> {
                    Thread t = new Thread(r, "latitude-pg-start");
                    t.setDaemon(true);
                    return t;
                });
                try {
                    List<Future<?>> started = new ArrayList<>();
                    for (Node replica : replicas) {
                        started.add(pool.submit(() -> startReplica(replica, deadline)));
                    }
                    for (Future<?> f : started) {
                        awaitFuture(f, deadline);
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
            long tEnd = System.nanoTime();
            startupTime = Duration.ofNanos(tEnd - t0);
            LOG.info("PostgreSQL cluster with {} replica(s) up in {} ms (initdb {} ms, primary start {} ms, replicas {} ms)"
                    + " in {}", replicas.size(), millis(tEnd - t0), millis(tInit - t0), millis(tPrimary - tInit),
                    millis(tEnd - tPrimary), baseDir);
            return this;
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    private void awaitFuture(Future<?> f, long deadline) {
        try {
            f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            throw new IllegalStateException("starting a replica failed: " + cause, cause);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the PostgreSQL cluster did not start within " + startTimeout.toSeconds()
                    + " s; see the logs in " + logDir + " or raise PostgresCluster.builder().startTimeout(...)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the PostgreSQL cluster", e);
        }
    }

    private void startReplica(Node replica, long deadline) {
        Node primary = nodes.get(0);
        try (Connection session = connect(primary)) {
            PostgresBaseBackup.take(session, primary.dataDir, replica.dataDir,
                    "host=127.0.0.1 port=" + primary.port + " user=" + USER + " application_name=" + replica.name);
        } catch (SQLException e) {
            throw new IllegalStateException("the base backup of " + primary.name + " for " + replica.name + " failed: "
                    + e.getMessage() + "; " + logTail(primary), e);
        }
        startProcess(replica);
        awaitReady(replica, deadline);
        awaitStreaming(replica, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }

    private void checkBinaries() {
        if (!PostgresBinaries.holdsTools(binDir)) {
            throw new LatitudeConfigException("PostgresCluster.builder().binDir", "'" + binDir + "' holds no executable"
                    + " " + String.join(" and ", PostgresBinaries.TOOLS) + "; point it at a PostgreSQL 15 bin directory"
                    + " or leave it unset to let PostgresBinaries find one");
        }
    }

    private String bin(String tool) {
        return binDir.resolve(tool).toString();
    }

    private void prepareDirectories() {
        try {
            Files.createDirectories(tempRoot);
            baseDir = Files.createTempDirectory(tempRoot, DIR_PREFIX);
            Files.writeString(baseDir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
            logDir = Files.createDirectories(baseDir.resolve("logs"));
            dataRoot = Files.createDirectories(baseDir.resolve("data"));
            if (isRoot()) {
                runAsPrefix = unprivilegedPrefix();
                // The unprivileged user must reach data/ (and nothing else) through the base directory.
                Files.setPosixFilePermissions(baseDir, PosixFilePermissions.fromString("rwx--x--x"));
                UserPrincipalLookupService users = baseDir.getFileSystem().getUserPrincipalLookupService();
                Files.setOwner(dataRoot, users.lookupPrincipalByName(osUser));
                Files.getFileAttributeView(dataRoot, PosixFileAttributeView.class)
                        .setGroup(users.lookupPrincipalByGroupName(runAsGid));
                Files.setPosixFilePermissions(dataRoot, PosixFilePermissions.fromString("rwx------"));
                List<String> probe = new ArrayList<>(runAsPrefix);
                probe.addAll(List.of("test", "-w", dataRoot.toString()));
                String reachable = Exec.run(probe, Duration.ofSeconds(10));
                if (reachable == null) {
                    throw new IllegalStateException("user '" + osUser + "' cannot reach " + dataRoot
                            + " (a parent directory is closed to it); use PostgresCluster.builder().tempRoot(Path.of(\"/tmp\"))"
                            + " or -Djava.io.tmpdir=/tmp");
                }
                List<String> runnable = new ArrayList<>(runAsPrefix);
                runnable.addAll(List.of("test", "-x", bin("postgres")));
                if (Exec.run(runnable, Duration.ofSeconds(10)) == null) {
                    throw new IllegalStateException("user '" + osUser + "' cannot run " + bin("postgres") + " (a parent"
                            + " directory is closed to it); put the binaries where it can, such as with -D"
                            + PostgresBinaries.CACHE_PROPERTY + "=/var/tmp/latitude-postgres for the bundle");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not prepare the cluster's directories under " + tempRoot + ": " + e, e);
        }
    }

    private List<String> unprivilegedPrefix() {
        if (!Files.isExecutable(Path.of("/usr/bin/setpriv")) && !Files.isExecutable(Path.of("/bin/setpriv"))) {
            throw new IllegalStateException("PostgreSQL refuses to run as root and setpriv (util-linux), used to run"
                    + " it as '" + osUser + "', was not found; install util-linux or run the tests as a non-root user");
        }
        String uid = Exec.run(List.of("id", "-u", osUser), Duration.ofSeconds(10));
        String gid = Exec.run(List.of("id", "-g", osUser), Duration.ofSeconds(10));
        if (uid == null || gid == null || uid.isBlank() || gid.isBlank()) {
            throw new IllegalStateException("PostgreSQL refuses to run as root and user '" + osUser + "', to run it"
                    + " as, does not exist; create it or choose one with PostgresCluster.builder().osUser(...)");
        }
        if (uid.trim().equals("0")) {
            throw new IllegalStateException("user '" + osUser + "' is root; PostgreSQL needs an unprivileged user"
                    + " (PostgresCluster.builder().osUser(...))");
        }
        runAsGid = gid.trim();
        return List.of("setpriv", "--reuid=" + uid.trim(), "--regid=" + runAsGid, "--clear-groups", "--");
    }

    private static boolean isRoot() {
        return PostgresBinaries.isRoot();
    }

    private void createNodes() {
        int count = replicaCount + 1;
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
            }
            for (int i = 0; i < count; i++) {
                String name = i == 0 ? "primary" : "replica-" + i;
                int port = held.get(i).getLocalPort();
                // Proxies start while the nodes' ports are held, so none of them can take one.
                TcpFaultProxy proxy = TcpFaultProxy.start(name, "127.0.0.1", port);
                nodes.add(new Node(name, port, proxy, dataRoot.resolve(name), logDir.resolve(name + ".log")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not find free ports on 127.0.0.1: " + e, e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // Freed anyway.
                }
            }
        }
    }

    private void writeSettings(Path conf) {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("listen_addresses", "127.0.0.1");
        all.put("unix_socket_directories", "");
        all.put("wal_level", "replica");
        all.put("max_wal_senders", Integer.toString(Math.max(10, replicaCount + 5)));
        all.put("max_replication_slots", Integer.toString(Math.max(10, replicaCount + 5)));
        all.put("wal_keep_size", "128MB");
        all.put("hot_standby", "on");
        all.put("fsync", "off");
        all.put("synchronous_commit", "off");
        all.put("full_page_writes", "off");
        all.put("shared_buffers", "32MB");
        all.put("max_connections", "50");
        all.put("wal_retrieve_retry_interval", "200ms");
        all.put("wal_receiver_status_interval", "1s");
        all.put("log_min_messages", "warning");
        all.putAll(settings);
        StringBuilder text = new StringBuilder("\n# Added by Latitude's PostgresCluster\n");
        all.forEach((k, v) -> text.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        try {
            Files.writeString(conf, text.toString(), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the settings to " + conf + ": " + e, e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Processes.

    private ProcessBuilder serverProcess(Node node, List<String> command) {
        List<String> cmd = new ArrayList<>(runAsPrefix);
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(node.logFile.toFile()));
        Exec.cleanEnvironment(pb.environment());
        pb.environment().put("HOME", dataRoot.toString());
        pb.environment().put("LC_ALL", "C");
        return pb;
    }

    private void runTool(Node node, long deadline, String... command) {
        String tool = Path.of(command[0]).getFileName().toString();
        Process p;
        try {
            p = serverProcess(node, List.of(command)).start();
        } catch (IOException e) {
            throw new IllegalStateException(tool + " for " + node.name + " could not be started: " + e, e);
        }
        long wait = Math.min(TOOL_TIMEOUT.toNanos(), Math.max(0, deadline - System.nanoTime()));
        try {
            if (!p.waitFor(wait, TimeUnit.NANOSECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(tool + " for " + node.name + " did not finish in time; "
                        + logTail(node));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + tool + " for " + node.name, e);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(tool + " for " + node.name + " failed with exit code " + p.exitValue()
                    + "; " + logTail(node));
        }
    }

    private void startProcess(Node node) {
        List<String> cmd = List.of(bin("postgres"), "-D", node.dataDir.toString(), "-p", Integer.toString(node.port));
        try {
            node.process = serverProcess(node, cmd).start();
        } catch (IOException e) {
            throw new IllegalStateException("could not start PostgreSQL node " + node.name + ": " + e, e);
        }
    }

    private void awaitReady(Node node, long deadline) {
        poll(() -> {
            if (!node.isRunning()) {
                throw new IllegalStateException("PostgreSQL node " + node.name + " exited while starting; "
                        + logTail(node));
            }
            return tryQuery(node, "SELECT 1").isPresent();
        }, deadline, () -> "PostgreSQL node " + node.name + " did not accept connections in time; " + logTail(node));
    }

    /**
     * Waits until a replica's WAL receiver is streaming from its primary.
     *
     * @param replica a running replica
     * @param timeout how long to wait at most
     * @throws IllegalStateException if it is not streaming by then
     */
    public void awaitStreaming(Node replica, Duration timeout) {
        requireRunning(replica, "wait for streaming");
        poll(() -> tryQuery(replica, "SELECT status FROM pg_stat_wal_receiver").filter("streaming"::equals).isPresent(),
                System.nanoTime() + timeout.toNanos(),
                () -> "replica " + replica.name + " is not streaming from its primary after " + timeout.toMillis()
                        + " ms; " + logTail(replica));
    }

    /**
     * Waits until a replica has replayed the WAL up to {@code lsn}, such as the primary's {@link #currentLsn()}.
     *
     * @param replica a running replica
     * @param lsn the position to reach
     * @param timeout how long to wait at most
     * @throws IllegalStateException if it has not by then (paused, delayed, or cut off)
     */
    public void awaitReplayed(Node replica, long lsn, Duration timeout) {
        poll(() -> replayLsn(replica) >= lsn, System.nanoTime() + timeout.toNanos(),
                () -> "replica " + replica.name + " replayed only up to " + formatLsn(replayLsn(replica)) + ", not "
                        + formatLsn(lsn) + ", within " + timeout.toMillis() + " ms");
    }

    private static void poll(BooleanSupplier done, long deadline, java.util.function.Supplier<String> failure) {
        while (true) {
            if (done.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(failure.get());
            }
            java.util.concurrent.locks.LockSupport.parkNanos(POLL_INTERVAL.toNanos());
            if (Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException("interrupted while waiting: " + failure.get());
            }
        }
    }

    private String logTail(Node node) {
        try {
            List<String> lines = Files.exists(node.logFile) ? Files.readAllLines(node.logFile, StandardCharsets.UTF_8)
                    : List.of();
            List<String> tail = lines.subList(Math.max(0, lines.size() - 15), lines.size());
            return "log " + node.logFile + (tail.isEmpty() ? " is empty" : " ends:\n  " + String.join("\n  ", tail));
        } catch (IOException | UncheckedIOException e) {
            return "log " + node.logFile + " unreadable: " + e;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Accessors.

    /** Returns the node started as primary (it stays the {@code primary} node after a {@link #promote(Node)}). */
    public Node primary() {
        requireStarted();
        return nodes.get(0);
    }

    /**
     * Returns a replica by number.
     *
     * @param n 1 to the number of replicas
     * @return the node named {@code replica-n}
     */
    public Node replica(int n) {
        requireStarted();
        if (n < 1 || n > replicaCount) {
            throw new IllegalArgumentException("replica number must be 1.." + replicaCount + ", got " + n);
        }
        return nodes.get(n);
    }

    /** Returns the replicas, in order. */
    public List<Node> replicas() {
        requireStarted();
        return List.copyOf(nodes.subList(1, nodes.size()));
    }

    /** Returns every node, the primary first. */
    public List<Node> nodes() {
        requireStarted();
        return List.copyOf(nodes);
    }

    /** Returns how long {@link #start()} took. */
    public Duration startupTime() {
        requireStarted();
        return startupTime;
    }

    /** Returns the directory of the server binaries the cluster runs (see {@link PostgresBinaries}). */
    public Path binDir() {
        requireStarted();
        return binDir;
    }

    /** Returns the temporary directory holding the data directories and logs; deleted by {@link #close()}. */
    public Path baseDir() {
        requireStarted();
        return baseDir;
    }

    /** Returns the cluster's server processes alive now: each postmaster and its children. */
    public List<ProcessHandle> processes() {
        List<ProcessHandle> all = new ArrayList<>();
        for (Node n : nodes) {
            Process p = n.process;
            if (p != null && p.isAlive()) {
                all.add(p.toHandle());
                p.descendants().forEach(all::add);
            }
        }
        return all;
    }

    private void requireStarted() {
        if (startupTime == null) {
            throw new IllegalStateException("the PostgreSQL cluster is not started; call start() first");
        }
    }

    private void requireRunning(Node node, String what) {
        Objects.requireNonNull(node, "node");
        if (!nodes.contains(node)) {
            throw new IllegalArgumentException(node.name + " is not a node of this cluster");
        }
        if (closed) {
            throw new IllegalStateException("the PostgreSQL cluster is closed; cannot " + what + " on " + node.name);
        }
        if (!node.isRunning()) {
            throw new IllegalStateException("PostgreSQL node " + node.name + " is not running; cannot " + what
                    + " (call restart(node) first)");
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // SQL and controls.

    /**
     * Runs SQL on a node directly (not through its proxy) over JDBC, each statement in its own transaction, and
     * returns the rows the statements return as text: one row a line, columns separated by {@code |}, {@code t} and
     * {@code f} for booleans, an empty string for NULL, trimmed (as {@code psql -A -t} prints them).
     *
     * @param node a running node
     * @param statements one or more SQL statements
     * @return the rows, such as {@code t} for {@code SELECT true}
     * @throws IllegalStateException if the node is not running or the SQL fails, with the server's message
     */
    public String query(Node node, String... statements) {
        requireRunning(node, "run SQL");
        if (statements.length == 0) {
            throw new IllegalArgumentException("no SQL given");
        }
        StringBuilder out = new StringBuilder();
        try (Connection c = connect(node); Statement st = c.createStatement()) {
            st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            for (String sql : statements) {
                if (st.execute(sql)) {
                    appendRows(st.getResultSet(), out);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL on PostgreSQL node " + node.name + " failed: " + e.getMessage()
                    + "; SQL: " + String.join("; ", statements), e);
        }
        return out.toString().trim();
    }

    private static void appendRows(ResultSet rs, StringBuilder out) throws SQLException {
        int columns = rs.getMetaData().getColumnCount();
        while (rs.next()) {
            for (int i = 1; i <= columns; i++) {
                String v = rs.getString(i);
                out.append(i > 1 ? "|" : "").append(v == null ? "" : v);
            }
            out.append('\n');
        }
    }

    /** Connects to a node directly, bypassing its proxy, as {@value #USER}. */
    private static Connection connect(Node node) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", USER);
        props.setProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        props.setProperty("socketTimeout", Integer.toString(QUERY_TIMEOUT_SECONDS));
        props.setProperty("ApplicationName", "latitude-testkit");
        Connection c = DRIVER.connect("jdbc:postgresql://127.0.0.1:" + node.port + "/postgres", props);
        if (c == null) {
            throw new SQLException("the PostgreSQL driver refused its own URL");
        }
        return c;
    }

    private Optional<String> tryQuery(Node node, String sql) {
        if (!node.isRunning()) {
            return Optional.empty();
        }
        try {
            return Optional.of(query(node, sql));
        } catch (IllegalStateException e) {
            return Optional.empty();
        }
    }

    /**
     * Delays replay on a replica: each transaction becomes visible there {@code delay} after it committed on the
     * primary ({@code recovery_min_apply_delay}, set with {@code ALTER SYSTEM} and a reload). Zero removes the delay.
     *
     * @param replica a running replica
     * @param delay zero or more
     */
    public void replayDelay(Node replica, Duration delay) {
        if (delay == null || delay.isNegative()) {
            throw new IllegalArgumentException("replay delay must be zero or more, got " + delay);
        }
        String value = delay.toMillis() + "ms";
        query(replica, "ALTER SYSTEM SET recovery_min_apply_delay = '" + value + "'", "SELECT pg_reload_conf()");
        poll(() -> tryQuery(replica, "SELECT setting FROM pg_settings WHERE name = 'recovery_min_apply_delay'")
                        .filter(Long.toString(delay.toMillis())::equals).isPresent(),
                System.nanoTime() + Duration.ofSeconds(10).toNanos(),
                () -> "replica " + replica.name + " did not take recovery_min_apply_delay = " + value);
    }

    /**
     * Pauses WAL replay on a replica ({@code pg_wal_replay_pause()}): it stays connected and receives WAL but applies
     * none, so its data and {@link #replayLsn(Node)} stand still.
     *
     * @param replica a running replica
     */
    public void pauseReplay(Node replica) {
        query(replica, "SELECT pg_wal_replay_pause()");
    }

    /**
     * Resumes WAL replay on a replica ({@code pg_wal_replay_resume()}).
     *
     * @param replica a running replica
     */
    public void resumeReplay(Node replica) {
        query(replica, "SELECT pg_wal_replay_resume()");
    }

    /**
     * Returns the WAL position a replica has replayed up to ({@code pg_last_wal_replay_lsn()}), as a byte position.
     *
     * @param replica a running replica (a promoted one returns the last position it replayed before promotion)
     * @return the position
     * @throws IllegalStateException if the node never was in recovery (the primary)
     */
    public long replayLsn(Node replica) {
        String lsn = query(replica, "SELECT pg_last_wal_replay_lsn()");
        if (lsn.isEmpty()) {
            throw new IllegalStateException("PostgreSQL node " + replica.name + " has no replay position: it is not a"
                    + " replica and never was (replayLsn needs one; use currentLsn(node) on a primary)");
        }
        return parseLsn(lsn);
    }

    /**
     * Returns the primary's current WAL position, as a byte position: see {@link #currentLsn(Node)}.
     *
     * @return the position
     */
    public long currentLsn() {
        return currentLsn(primary());
    }

    /**
     * Returns a node's current WAL position, as a byte position: the end of the last WAL record written, so every
     * transaction committed before the call is included and a replica that has replayed up to it
     * ({@link #awaitReplayed(Node, long, Duration)}) sees them.
     *
     * <p>This is {@code pg_current_wal_insert_lsn()} rather than {@code pg_current_wal_lsn()}: with
     * {@code synchronous_commit=off} (the testkit's default, for speed) the latter, the position written out so far,
     * trails a commit until the WAL writer catches up. At a page boundary the insert position points past the next
     * page's header, where no record can end; it is moved back to the boundary so that replay positions reach it.
     *
     * @param node a running node that is not in recovery (the primary, or a promoted replica)
     * @return the position
     */
    public long currentLsn(Node node) {
        String[] row = query(node, "SELECT pg_current_wal_insert_lsn() || ' ' || current_setting('wal_block_size')"
                + " || ' ' || (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size')").split(" ");
        long lsn = parseLsn(row[0]);
        long blockSize = Long.parseLong(row[1]);
        long segmentSize = Long.parseLong(row[2]);
        long shortHeader = 24; // SizeOfXLogShortPHD
        long longHeader = 40; // SizeOfXLogLongPHD, on the first page of a segment
        if (lsn % segmentSize == longHeader) {
            return lsn - longHeader;
        }
        if (lsn % blockSize == shortHeader && lsn % segmentSize != shortHeader) {
            return lsn - shortHeader;
        }
        return lsn;
    }

    /**
     * Returns whether a node is in recovery, that is a replica ({@code pg_is_in_recovery()}).
     *
     * @param node a running node
     * @return true for a replica, false for a primary
     */
    public boolean isInRecovery(Node node) {
        return "t".equals(query(node, "SELECT pg_is_in_recovery()"));
    }

    /**
     * Promotes a replica to a primary ({@code pg_promote()}) and waits until it accepts writes. Other replicas keep
     * following the old primary.
     *
     * @param replica a running replica
     */
    public void promote(Node replica) {
        if (!isInRecovery(replica)) {
            throw new IllegalStateException("PostgreSQL node " + replica.name + " is not in recovery; only a replica"
                    + " can be promoted");
        }
        String ok = query(replica, "SELECT pg_promote(true, 30)");
        if (!"t".equals(ok)) {
            throw new IllegalStateException("promoting " + replica.name + " did not finish within 30 s; "
                    + logTail(replica));
        }
    }

    /**
     * Stops a node with a fast shutdown (SIGINT: clients are disconnected, a shutdown checkpoint is written) and waits
     * until its processes are gone; its port then refuses connections. A stopped node stays stopped until
     * {@link #restart(Node)}.
     *
     * @param node a node of this cluster; nothing happens if it is not running
     */
    public synchronized void stop(Node node) {
        requireNode(node);
        signalAndWait(node, "INT", STOP_TIMEOUT);
    }

    /**
     * Kills a node's postmaster with SIGKILL, as in a crash, and waits until its child processes are gone too (they
     * exit on their own when the postmaster dies; those that do not within a few seconds are killed as well). The node
     * stays down until {@link #restart(Node)}, which runs crash recovery.
     *
     * @param node a node of this cluster; nothing happens if it is not running
     */
    public synchronized void kill(Node node) {
        requireNode(node);
        Process p = node.process;
        if (p == null || !p.isAlive()) {
            return;
        }
        List<ProcessHandle> children = p.descendants().collect(Collectors.toList());
        p.destroyForcibly();
        awaitGone(node, p.toHandle(), children, Duration.ofSeconds(10));
    }

    /**
     * Starts a node again (stopping it first with a fast shutdown if it runs) and waits until it accepts connections.
     * A replica reconnects to its primary by itself; use {@link #awaitStreaming(Node, Duration)} to wait for that.
     *
     * @param node a node of this cluster
     */
    public synchronized void restart(Node node) {
        requireNode(node);
        if (closed) {
            throw new IllegalStateException("the PostgreSQL cluster is closed; cannot restart " + node.name);
        }
        signalAndWait(node, "INT", STOP_TIMEOUT);
        startProcess(node);
        awaitReady(node, System.nanoTime() + startTimeout.toNanos());
    }

    private void requireNode(Node node) {
        Objects.requireNonNull(node, "node");
        if (!nodes.contains(node)) {
            throw new IllegalArgumentException(node.name + " is not a node of this cluster");
        }
    }

    /** Sends a signal to the postmaster and waits for it and its children to exit; kills them if they do not. */
    private void signalAndWait(Node node, String signal, Duration timeout) {
        Process p = node.process;
        if (p == null || !p.isAlive()) {
            return;
        }
        List<ProcessHandle> children = p.descendants().collect(Collectors.toList());
        try {
            if (Exec.run(List.of("kill", "-" + signal, Long.toString(p.pid())), Duration.ofSeconds(10)) == null) {
                LOG.warn("could not send SIG{} to PostgreSQL node {}; killing it", signal, node.name);
                p.destroyForcibly();
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("PostgreSQL node {} did not stop within {} s after SIG{}; killing it", node.name,
                        timeout.toSeconds(), signal);
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
        awaitGone(node, p.toHandle(), children, Duration.ofSeconds(10));
    }

    private static void awaitGone(Node node, ProcessHandle postmaster, List<ProcessHandle> children, Duration timeout) {
        List<ProcessHandle> all = new ArrayList<>(children);
        all.add(0, postmaster);
        try {
            poll(() -> all.stream().noneMatch(ProcessHandle::isAlive), System.nanoTime() + timeout.toNanos(),
                    () -> "processes of node " + node.name + " still alive");
        } catch (IllegalStateException e) {
            all.stream().filter(ProcessHandle::isAlive).forEach(h -> {
                LOG.warn("PostgreSQL process {} of node {} is still alive; killing it", h.pid(), node.name);
                h.destroyForcibly();
            });
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Closing.

    /**
     * Stops every server process (immediate shutdown, then SIGKILL for any left), closes the proxies and deletes the
     * temporary directory. Safe to call more than once, and after a failed start.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node node = nodes.get(i);
            try {
                signalAndWait(node, "QUIT", Duration.ofSeconds(10));
            } catch (RuntimeException e) {
                LOG.warn("stopping PostgreSQL node {} failed", node.name, e);
            }
            node.proxy.close();
        }
        if (baseDir != null) {
            deleteTree(baseDir);
        }
        OPEN.remove(this);
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("could not delete {} completely: {}", dir, e.toString());
        }
    }

    private static void installHook() {
        if (HOOK_INSTALLED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                for (PostgresCluster c : new ArrayList<>(OPEN)) {
                    c.close();
                }
            }, "latitude-pg-shutdown"));
        }
    }

    /**
     * Removes clusters a killed JVM left behind in {@code root}: their owner process is gone, so their postmasters are
     * killed and their directories deleted.
     */
    private static void reapOrphans(Path root) {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, DIR_PREFIX + "*")) {
            for (Path dir : dirs) {
                Path owner = dir.resolve(OWNER_FILE);
                long ownerPid;
                try {
                    ownerPid = Long.parseLong(Files.readString(owner).trim());
                } catch (IOException | NumberFormatException e) {
                    continue; // Not ours, or still being set up.
                }
                if (ProcessHandle.of(ownerPid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                LOG.warn("removing a PostgreSQL cluster left by process {} that is gone: {}", ownerPid, dir);
                Path data = dir.resolve("data");
                if (Files.isDirectory(data)) {
                    try (DirectoryStream<Path> nodeDirs = Files.newDirectoryStream(data)) {
                        for (Path nodeDir : nodeDirs) {
                            killStalePostmaster(nodeDir);
                        }
                    } catch (IOException e) {
                        LOG.debug("listing {}", data, e);
                    }
                }
                deleteTree(dir);
            }
        } catch (IOException e) {
            LOG.debug("looking for left-over clusters in {}", root, e);
        }
    }

    private static void killStalePostmaster(Path nodeDir) {
        try {
            List<String> lines = Files.readAllLines(nodeDir.resolve("postmaster.pid"));
            if (lines.isEmpty()) {
                return;
            }
            long pid = Long.parseLong(lines.get(0).trim());
            ProcessHandle.of(pid).filter(h -> h.info().commandLine().map(c -> c.contains(nodeDir.toString()))
                    .orElse(false)).ifPresent(h -> {
                        List<ProcessHandle> children = h.descendants().collect(Collectors.toList());
                        h.destroyForcibly();
                        children.forEach(ProcessHandle::destroyForcibly);
                    });
        } catch (IOException | NumberFormatException e) {
            // No postmaster there.
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // LSNs.

    /**
     * Parses a PostgreSQL LSN such as {@code 0/3000148} into a byte position.
     *
     * @param lsn the text form
     * @return the position
     */
    public static long parseLsn(String lsn) {
        String[] parts = lsn.trim().split("/");
        if (parts.length != 2) {
            throw new IllegalArgumentException("not a PostgreSQL LSN: '" + lsn + "'");
        }
        return (Long.parseLong(parts[0], 16) << 32) | Long.parseLong(parts[1], 16);
    }

    /**
     * Formats a byte position as a PostgreSQL LSN such as {@code 0/3000148}.
     *
     * @param lsn the position
     * @return the text form
     */
    public static String formatLsn(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase(Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return "PostgresCluster" + (closed ? "[closed]" : nodes.toString());
    }

    /** Running short external commands with bounded waits. */
    private static final class Exec {
        static void cleanEnvironment(Map<String, String> env) {
            env.keySet().removeIf(k -> k.startsWith("PG"));
        }

        /** Returns the command's output if it exits with 0 within {@code timeout}, or null. */
        static String run(List<String> cmd, Duration timeout) {
            Path out = null;
            try {
                out = Files.createTempFile("exec-", ".out");
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile())
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                cleanEnvironment(pb.environment());
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                    return null;
                }
                return p.exitValue() == 0 ? Files.readString(out) : null;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            } finally {
                if (out != null) {
                    try {
                        Files.deleteIfExists(out);
                    } catch (IOException ignored) {
                        // A temp file.
                    }
                }
            }
        }
    }

    /** For tests of this class: the clusters open in this JVM. */
    static Set<PostgresCluster> openClusters() {
        return Collections.unmodifiableSet(OPEN);
    }
}
