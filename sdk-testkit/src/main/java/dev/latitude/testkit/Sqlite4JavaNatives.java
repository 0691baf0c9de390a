package dev.latitude.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * Finds sqlite4java's native library, which DynamoDB Local needs, and tells sqlite4java where it is through the system
 * property {@value #LIBRARY_PATH_PROPERTY}.
 *
 * <p>{@link DynamoDbLocalRegion#start(String)} calls {@link #ensureConfigured()} before the first server starts, so a
 * user of the testkit needs no setup. Where the library comes from, first match wins:
 * <ol>
 *   <li>{@value #LIBRARY_PATH_PROPERTY} already set (this module's own tests: surefire sets it to
 *       {@code target/native-libs}, where the build copies {@code libsqlite4java-linux-amd64.so}): used as is, after
 *       checking that the folder exists;</li>
 *   <li>the copy inside the testkit's jar, under {@code dev/latitude/testkit/sqlite4java/} (the build puts the library
 *       of every platform DynamoDB Local ships there): this platform's file is extracted once per JVM into a new
 *       temporary folder, deleted when the JVM exits;</li>
 *   <li>the local Maven repository ({@code -Dmaven.repo.local}, else {@code ~/.m2/repository}), where resolving
 *       DynamoDB Local put the {@code com.almworks.sqlite4java} native artifacts: copied the same way, under the name
 *       sqlite4java loads.</li>
 * </ol>
 * Otherwise {@link #ensureConfigured()} throws, naming what it looked for and how to fix it. The property must be set
 * before sqlite4java first loads its library; once loaded, later changes have no effect.
 */
public final class Sqlite4JavaNatives {
    /** The system property sqlite4java reads its library folder from. */
    public static final String LIBRARY_PATH_PROPERTY = "sqlite4java.library.path";

    private static final String BUNDLE = "/dev/latitude/testkit/sqlite4java/";
    private static final String GROUP_PATH = "com/almworks/sqlite4java";
    private static final String FALLBACK_VERSION = "1.0.392";

    private static Path configured;

    private Sqlite4JavaNatives() {
    }

    /**
     * Makes sure {@value #LIBRARY_PATH_PROPERTY} names a folder with this platform's sqlite4java library, extracting
     * one if the property is unset. Idempotent and thread-safe.
     *
     * @return the folder the property names
     * @throws IllegalStateException if the property names a missing folder, or no library for this platform is found
     */
    public static synchronized Path ensureConfigured() {
        String set = System.getProperty(LIBRARY_PATH_PROPERTY);
        if (set != null && !set.isBlank()) {
            Path dir = Paths.get(set);
            if (!Files.isDirectory(dir)) {
                throw new IllegalStateException("system property " + LIBRARY_PATH_PROPERTY + " is '" + set
                        + "', which is not a folder; point it at the folder holding " + libraryFileNames()
                        + " or leave it unset so the testkit extracts the library itself");
            }
            configured = dir;
            return dir;
        }
        if (configured != null) {
            System.setProperty(LIBRARY_PATH_PROPERTY, configured.toString());
            return configured;
        }
        Path dir = locateAndCopy();
        System.setProperty(LIBRARY_PATH_PROPERTY, dir.toString());
        configured = dir;
        return dir;
    }

    /**
     * Copies this platform's library from the testkit's jar, else from the local Maven repository, into a new
     * temporary folder (deleted at JVM exit), without touching the system property.
     *
     * @return the folder
     * @throws IllegalStateException if there is no library for this platform in either place
     */
    static Path locateAndCopy() {
        List<String> names = libraryFileNames();
        if (names.isEmpty()) {
            throw new IllegalStateException("DynamoDB Local ships no sqlite4java native library for os.name="
                    + System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch")
                    + "; run the tests on Linux (amd64 or i386), macOS or Windows (x86 or x64), or set "
                    + LIBRARY_PATH_PROPERTY + " to a folder holding a sqlite4java " + version()
                    + " library built for it");
        }
        List<String> looked = new ArrayList<>();
        try {
            Path dir = extractFromBundle(names, looked);
            if (dir == null) {
                dir = copyFromMavenRepository(names, looked);
            }
            if (dir == null) {
                throw new IllegalStateException("sqlite4java's native library " + names + " was not found: "
                        + LIBRARY_PATH_PROPERTY + " is unset and none of " + looked + " exists. Fix: set -D"
                        + LIBRARY_PATH_PROPERTY + "=<folder holding " + names.get(0) + ">, e.g. by copying "
                        + GROUP_PATH.replace('/', '.') + ":" + artifactOf(names.get(0)) + ":" + version() + " with "
                        + "maven-dependency-plugin's copy goal (stripVersion=true)");
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("could not copy sqlite4java's native library " + names
                    + " to a temporary folder (is java.io.tmpdir=" + System.getProperty("java.io.tmpdir")
                    + " writable?); or set " + LIBRARY_PATH_PROPERTY + " to a folder holding it", e);
        }
    }

    static Path extractFromBundle(List<String> names, List<String> looked) throws IOException {
        Path dir = null;
        for (String name : names) {
            looked.add("classpath:" + BUNDLE + name);
            try (InputStream in = Sqlite4JavaNatives.class.getResourceAsStream(BUNDLE + name)) {
                if (in == null) {
                    continue;
                }
                if (dir == null) {
                    dir = newTempDir();
                }
                Path file = dir.resolve(name);
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                file.toFile().deleteOnExit();
            }
        }
        return dir;
    }

    static Path copyFromMavenRepository(List<String> names, List<String> looked) throws IOException {
        String repoProperty = System.getProperty("maven.repo.local");
        Path repo = repoProperty != null && !repoProperty.isBlank()
                ? Paths.get(repoProperty)
                : Paths.get(System.getProperty("user.home"), ".m2", "repository");
        String version = version();
        Path dir = null;
        for (String name : names) {
            String artifact = artifactOf(name);
            String extension = name.substring(name.lastIndexOf('.') + 1);
            Path source = repo.resolve(GROUP_PATH).resolve(artifact).resolve(version)
                    .resolve(artifact + "-" + version + "." + extension);
            looked.add(source.toString());
            if (!Files.isRegularFile(source)) {
                continue;
            }
            if (dir == null) {
                dir = newTempDir();
            }
            Path file = dir.resolve(name);
            Files.copy(source, file, StandardCopyOption.REPLACE_EXISTING);
            file.toFile().deleteOnExit();
        }
        return dir;
    }

    private static Path newTempDir() throws IOException {
        Path dir = Files.createTempDirectory("latitude-sqlite4java-");
        dir.toFile().deleteOnExit();
        return dir;
    }

    /** The artifact id of a library file name: the name less its extension (libsqlite4java-linux-amd64, sqlite4java-win32-x64). */
    private static String artifactOf(String fileName) {
        return fileName.substring(0, fileName.lastIndexOf('.'));
    }

    /** The sqlite4java version on the classpath, from its jar's Maven metadata, else the one DynamoDB Local 3.1.0 uses. */
    static String version() {
        try (InputStream in = Sqlite4JavaNatives.class.getResourceAsStream(
                "/META-INF/maven/com.almworks.sqlite4java/sqlite4java/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.isBlank()) {
                    return v.trim();
                }
            }
        } catch (IOException ignored) {
            // fall through to the known version
        }
        return FALLBACK_VERSION;
    }

    /** This platform's library file names, as sqlite4java loads them (no version suffix); empty if none is shipped. */
    static List<String> libraryFileNames() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        boolean x64 = arch.equals("amd64") || arch.equals("x86_64") || arch.equals("x64");
        boolean x86 = arch.equals("x86") || arch.equals("i386") || arch.equals("i486") || arch.equals("i586")
                || arch.equals("i686");
        if (os.startsWith("linux")) {
            if (x64) {
                return List.of("libsqlite4java-linux-amd64.so");
            }
            if (x86) {
                return List.of("libsqlite4java-linux-i386.so");
            }
            return List.of();
        }
        if (os.startsWith("mac") || os.startsWith("darwin")) {
            return List.of("libsqlite4java-osx.dylib");
        }
        if (os.startsWith("windows")) {
            if (x64) {
                return List.of("sqlite4java-win32-x64.dll");
            }
            if (x86) {
                return List.of("sqlite4java-win32-x86.dll");
            }
        }
        return List.of();
    }
}
