package dev.latitude.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;

/**
 * A base backup of a running primary taken with SQL and a file copy, the way PostgreSQL's documentation describes a
 * "low level API" backup, so a replica can be made without {@code pg_basebackup}: {@code pg_backup_start} in a
 * session, a copy of the data directory, {@code pg_backup_stop} in the same session, whose label file becomes the
 * copy's {@code backup_label}; then {@code standby.signal} and {@code primary_conninfo} make the copy a streaming
 * replica. The copy holds no WAL: the replica streams it from the primary from the backup's start, which the
 * primary's {@code wal_keep_size} keeps.
 *
 * <p>Files are copied with their owner and permissions, so a copy made by root for a server run as an unprivileged
 * user belongs to that user too.
 */
final class PostgresBaseBackup {
    /** Directories whose contents a base backup leaves out (PostgreSQL recreates or refills them). */
    private static final Set<String> SKIP_CONTENTS = Set.of("pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify",
            "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans");
    /** Files of a running server a base backup leaves out. */
    private static final Set<String> SKIP_FILES = Set.of("postmaster.pid", "postmaster.opts", "backup_label",
            "tablespace_map", "standby.signal", "recovery.signal");

    private PostgresBaseBackup() {
    }

    /**
     * Copies the data directory of the primary {@code session} is connected to into {@code target}, which must not
     * exist, and sets the copy up as a streaming replica of {@code primaryConninfo}.
     *
     * @param session a connection to the primary, in auto-commit mode; the backup is tied to it
     * @param source the primary's data directory
     * @param target the replica's data directory, made by the copy
     * @param primaryConninfo the libpq connection string the replica streams from
     */
    static void take(Connection session, Path source, Path target, String primaryConninfo) throws SQLException {
        try (Statement st = session.createStatement()) {
            // fast => an immediate checkpoint instead of a spread one, for a quick start.
            st.execute("SELECT pg_backup_start('latitude " + target.getFileName() + "', true)");
            String label;
            try {
                copyTree(source, target);
            } finally {
                try (ResultSet rs = st.executeQuery("SELECT labelfile FROM pg_backup_stop(false)")) {
                    rs.next();
                    label = rs.getString(1);
                }
            }
            writeOwned(target, "backup_label", label, false);
            writeOwned(target, "standby.signal", "", false);
            writeOwned(target, "postgresql.auto.conf", "primary_conninfo = '" + primaryConninfo.replace("'", "''")
                    + "'\n", true);
        }
    }

    private static void copyTree(Path source, Path target) {
        try {
            Files.walkFileTree(source, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    Path to = target.resolve(source.relativize(dir).toString());
                    Files.copy(dir, to, StandardCopyOption.COPY_ATTRIBUTES);
                    if (!dir.equals(source) && SKIP_CONTENTS.contains(dir.getFileName().toString())) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    String name = file.getFileName().toString();
                    boolean skipped = file.getParent().equals(source) && SKIP_FILES.contains(name)
                            || name.startsWith("pgsql_tmp") || name.equals("pg_internal.init");
                    if (!skipped) {
                        try {
                            Files.copy(file, target.resolve(source.relativize(file).toString()),
                                    StandardCopyOption.COPY_ATTRIBUTES);
                        } catch (NoSuchFileException gone) {
                            // Dropped while copying; the WAL replayed from the backup's start drops it too.
                        }
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("could not copy the data directory " + source + " to " + target + ": " + e,
                    e);
        }
    }

    /** Writes (or appends to) a file of the copy, owned like the copy's directory. */
    private static void writeOwned(Path dataDir, String name, String text, boolean append) {
        Path file = dataDir.resolve(name);
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
            PosixFileAttributes dir = Files.readAttributes(dataDir, PosixFileAttributes.class);
            PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
            if (!view.readAttributes().owner().equals(dir.owner())) {
                view.setOwner(dir.owner());
                view.setGroup(dir.group());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + file + ": " + e, e);
        }
    }
}
