package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * Extraction of a PostgreSQL bundle into the cache, on small archives written here in the bundles' format (a tar of
 * files, directories and symbolic links, compressed with xz): once, verified before reuse, and safe when threads and
 * other JVMs extract the same bundle at the same time.
 */
class PostgresBundleTest {
    private static final int FILES = 300;

    @TempDir
    Path tmp;

    /** Extracts the bundle at args[0] (a URL) into the cache directory args[1] and prints where. */
    public static void main(String[] args) throws Exception {
        System.out.println(PostgresBundle.of(new URL(args[0])).extractTo(Path.of(args[1])));
    }

    /** Writes a bundle like zonky's: bin/ with executables, lib/ with a library and a link to it, share/ with data. */
    private Path bundle(String name, int seed) throws IOException {
        Random random = new Random(seed);
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        entry(tar, "bin/", '5', 0755, new byte[0], "");
        entry(tar, "bin/initdb", '0', 0755, "#!/bin/sh\necho initdb\n".getBytes(StandardCharsets.UTF_8), "");
        entry(tar, "bin/postgres", '0', 0755, "#!/bin/sh\necho postgres\n".getBytes(StandardCharsets.UTF_8), "");
        entry(tar, "lib/", '5', 0755, new byte[0], "");
        entry(tar, "lib/libpq.so.5.15", '0', 0644, bytes(random, 5000), "");
        entry(tar, "lib/libpq.so.5", '2', 0777, new byte[0], "libpq.so.5.15");
        for (int i = 0; i < FILES; i++) {
            // No directory entry for share/...: the extraction makes parents itself, as tar does.
            entry(tar, "share/postgresql/f" + i, '0', 0644, bytes(random, random.nextInt(4_000)), "");
        }
        tar.write(new byte[1024]);
        Path file = tmp.resolve(name);
        try (OutputStream out = new XZOutputStream(Files.newOutputStream(file), new LZMA2Options(0))) {
            tar.writeTo(out);
        }
        return file;
    }

    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static void entry(ByteArrayOutputStream tar, String name, char type, int mode, byte[] data, String link)
            throws IOException {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, String.format("%07o", mode));
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", data.length));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 157, link);
        put(h, 257, "ustar");
        put(h, 263, "00");
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        tar.write(h);
        tar.write(data);
        tar.write(new byte[(512 - data.length % 512) % 512]);
    }

    private static void put(byte[] header, int offset, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, header, offset, b.length);
    }

    private static List<String> leftovers(Path cache) throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-")).collect(Collectors.toList());
        }
    }

    @Test
    void extractTo_unpacksFilesModesAndLinksOnceAndReusesTheVerifiedCopy() throws Exception {
        Path archive = bundle("postgres-linux-x86_64.txz", 1);
        Path cache = tmp.resolve("cache");
        PostgresBundle b = PostgresBundle.of(archive.toUri().toURL());

        Path dir = b.extractTo(cache);

        assertThat(dir).isEqualTo(cache.resolve(b.key()));
        assertThat(b.key()).startsWith("unversioned-postgres-linux-x86_64-");
        assertThat(Files.isExecutable(dir.resolve("bin/postgres"))).isTrue();
        assertThat(Files.isExecutable(dir.resolve("lib/libpq.so.5.15"))).isFalse();
        assertThat(Files.readSymbolicLink(dir.resolve("lib/libpq.so.5"))).isEqualTo(Path.of("libpq.so.5.15"));
        try (Stream<Path> files = Files.list(dir.resolve("share/postgresql"))) {
            assertThat(files.count()).isEqualTo(FILES);
        }
        assertThat(PostgresBundle.verify(dir)).isTrue();
        Path marker = Files.writeString(dir.resolve("marker"), "kept while the copy verifies");

        assertThat(b.extractTo(cache)).isEqualTo(dir);
        assertThat(marker).exists();
        assertThat(leftovers(cache)).isEmpty();
    }

    @Test
    void extractTo_replacesACopyThatNoLongerVerifies() throws Exception {
        PostgresBundle b = PostgresBundle.of(bundle("postgres-linux-x86_64.txz", 2).toUri().toURL());
        Path cache = tmp.resolve("cache");
        Path dir = b.extractTo(cache);
        byte[] original = Files.readAllBytes(dir.resolve("share/postgresql/f7"));

        Files.writeString(dir.resolve("share/postgresql/f7"), "truncated");
        assertThat(PostgresBundle.verify(dir)).isFalse();
        assertThat(b.extractTo(cache)).isEqualTo(dir);
        assertThat(Files.readAllBytes(dir.resolve("share/postgresql/f7"))).isEqualTo(original);

        Files.delete(dir.resolve("bin/initdb"));
        assertThat(PostgresBundle.verify(dir)).isFalse();
        b.extractTo(cache);
        assertThat(PostgresBundle.verify(dir)).isTrue();

        // What a JVM killed while extracting leaves: a scratch directory, removed by the next extraction.
        Path abandoned = Files.createDirectories(cache.resolve(b.key() + ".tmp-12345/bin"));
        Files.writeString(dir.resolve("bin/initdb"), "#!/bin/sh\n# altered\n");
        b.extractTo(cache);
        assertThat(abandoned.getParent()).doesNotExist();
        assertThat(leftovers(cache)).isEmpty();

        // A directory a killed extraction could never leave (it renames only complete ones), but one made by hand.
        PostgresCluster.deleteTree(dir);
        Files.createDirectories(dir.resolve("bin"));
        assertThat(PostgresBundle.verify(dir)).isFalse();
        b.extractTo(cache);
        assertThat(PostgresBundle.verify(dir)).isTrue();
    }

    @Test
    void of_anotherArchive_getsAnotherKey() throws Exception {
        PostgresBundle one = PostgresBundle.of(bundle("postgres-linux-x86_64.txz", 3).toUri().toURL());
        Files.move(tmp.resolve("postgres-linux-x86_64.txz"), tmp.resolve("first.txz"));
        PostgresBundle other = PostgresBundle.of(bundle("postgres-linux-x86_64.txz", 4).toUri().toURL());

        assertThat(one.key()).isNotEqualTo(other.key());
    }

    @Test
    void extractTo_anEntryOutsideTheDirectory_isRefusedAndLeavesNothing() throws Exception {
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        entry(tar, "../escape", '0', 0644, new byte[10], "");
        tar.write(new byte[1024]);
        Path archive = tmp.resolve("postgres-evil.txz");
        try (OutputStream out = new XZOutputStream(Files.newOutputStream(archive), new LZMA2Options(0))) {
            tar.writeTo(out);
        }
        Path cache = tmp.resolve("cache");

        assertThatThrownBy(() -> PostgresBundle.of(archive.toUri().toURL()).extractTo(cache))
                .hasMessageContaining("outside the extraction directory")
                .hasMessageContaining("latitude.postgres.cache");
        assertThat(tmp.resolve("escape")).doesNotExist();
        assertThat(leftovers(cache)).isEmpty();
    }

    /**
     * Threads of this JVM and two other JVMs extract the same bundle into the same cache at once: every one of them
     * gets the same complete directory and no temporary directory is left behind.
     */
    @Test
    void extractTo_concurrentlyFromThreadsAndOtherJvms_yieldsOneCompleteCopy() throws Exception {
        Path archive = bundle("postgres-linux-x86_64.txz", 5);
        URL url = archive.toUri().toURL();
        Path cache = tmp.resolve("cache");
        Path expected = cache.resolve(PostgresBundle.of(url).key());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> jvms = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            jvms.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    PostgresBundleTest.class.getName(), url.toString(), cache.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start());
        }
        int threads = 6;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    return PostgresBundle.of(url).extractTo(cache);
                }));
            }
            go.countDown();
            for (Future<Path> f : results) {
                assertThat(f.get(120, TimeUnit.SECONDS)).isEqualTo(expected);
            }
        } finally {
            pool.shutdownNow();
        }
        for (Process p : jvms) {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim())
                    .isEqualTo(expected.toString());
            assertThat(p.exitValue()).isZero();
        }
        assertThat(PostgresBundle.verify(expected)).isTrue();
        assertThat(leftovers(cache)).isEmpty();
    }
}
