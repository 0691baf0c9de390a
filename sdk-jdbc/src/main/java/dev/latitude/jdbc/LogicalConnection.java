package dev.latitude.jdbc;

import dev.latitude.AmbiguousWriteException;
import dev.latitude.LatitudeException;
import dev.latitude.Operation;
import dev.latitude.RegionSpec;
import dev.latitude.RegionsUnavailableException;
import dev.latitude.ResidencyException;
import dev.latitude.Session;
import dev.latitude.FailureKind;
import dev.latitude.jdbc.internal.CommitFate;
import dev.latitude.jdbc.internal.JdbcErrorClassifier;
import dev.latitude.jdbc.internal.NodeInspector;
import dev.latitude.jdbc.internal.NodeState;
import dev.latitude.jdbc.internal.SqlVerbs;
import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.NClob;
import java.sql.PreparedStatement;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransactionRollbackException;
import java.sql.SQLTransientConnectionException;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Struct;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A logical connection of {@link MultiRegionDataSource}: holds the application's settings, takes a physical
 * connection in the region the engine plans at the first statement, and gives it back when a transaction ends so the
 * next one may run elsewhere. Like most JDBC connections it is meant for one thread at a time; {@link #abort} and
 * {@link #isClosed()} may be called from any thread.
 */
final class LogicalConnection implements Connection {
    private static final Logger LOG = LoggerFactory.getLogger(LogicalConnection.class);
    private static final String CLOSED_STATE = "08003";
    /** For setNetworkTimeout, which wants an executor for work it has none for: pgjdbc's ignores it. */
    private static final Executor DIRECT = Runnable::run;

    private final MultiRegionDataSource dataSource;

    // The application's settings, applied to every physical connection this logical one takes.
    private boolean autoCommit = true;
    private boolean readOnly;
    private Integer isolation;
    private String schema;
    private String catalog;
    private Integer holdability;
    private Properties clientInfo; // null until the application sets some
    private Map<String, Class<?>> typeMap;
    private Executor networkTimeoutExecutor;
    private Integer networkTimeoutMillis;

    // The physical connection of the current unit of work, if one was taken.
    private Connection physical;
    private String region;
    private boolean physicalReadOnly;
    private boolean mayHaveWritten;
    // Every statement not yet closed, and those of them that run on the physical connection held now. Lists, not
    // sets: a unit of work has a statement or two, and an empty ArrayList holds no array (this is per connection).
    // A statement is added to each at most once and removed by identity (LogicalStatement keeps Object's equals).
    private final List<LogicalStatement> statements = new ArrayList<>(2);
    private final List<LogicalStatement> onPhysical = new ArrayList<>(2);
    // Physical connections left behind by a change of route while statements on them were still open.
    private final List<Connection> retired = new ArrayList<>();
    private volatile boolean closed;

    LogicalConnection(MultiRegionDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Work on a physical connection: runs a unit of work's first statement, or nothing. */
    @FunctionalInterface
    interface PhysicalWork<T> {
        T run(Connection physical) throws SQLException;
    }

    /** What an attempt in one region produced: its physical connection and the work's result. */
    private record Taken<T>(String region, Connection connection, T result) {
    }

    /**
     * Runs {@code work} on the physical connection of the current unit of work, taking one first (through the engine,
     * which picks the region, falls back and records health) if none is held.
     *
     * @param sql the first statement, naming the operation in spans, or {@code null}
     * @param queryTimeoutSeconds the statement's query timeout, 0 if none
     */
    <T> T run(String sql, int queryTimeoutSeconds, PhysicalWork<T> work) throws SQLException {
        checkOpen();
        String verb = SqlVerbs.verb(sql);
        if (physical != null) {
            if (!physicalReadOnly && SqlVerbs.mayWrite(verb)) {
                mayHaveWritten = true;
            }
            Connection on = physical;
            try {
                return work.run(on);
            } catch (SQLException e) {
                throw failed(e, on);
            }
        }
        boolean write = !readOnly;
        if (write && dataSource.writerLost()) {
            // No writer answered at the last search: wait for the one being promoted rather than for the lost
            // writer's pool to time out. Nothing was sent, so a failure here is simply "no writer".
            dataSource.findWriter(dataSource.writerRegion());
        }
        Session session = dataSource.currentSession();
        String dataClass = dataClass();
        if (!write) {
            dataSource.awaitNearestReplay(dataClass, session);
        }
        Operation op = dataSource.operation(write, verb, dataClass, session, queryTimeoutSeconds);
        Attempts<T> attempts = new Attempts<>(dataSource.callerCutMillis(write, queryTimeoutSeconds));
        Taken<T> taken;
        String writer = dataSource.writerRegion();
        try {
            taken = dataSource.latitude().execute(op, r -> attempts.attempt(r, work));
            attempts.keep(taken.connection());
        } catch (ResidencyException e) {
            throw e;
        } catch (AmbiguousWriteException e) {
            // In auto-commit mode the statement may have committed; in a transaction nothing was committed yet.
            throw writerLost(e.region(), e, autoCommit, -1);
        } catch (RegionsUnavailableException e) {
            if (write) {
                throw writerLost(writer, e, false, -1);
            }
            throw new SQLTransientConnectionException(e.getMessage() + "; retry later", "08001", e);
        } catch (LatitudeException e) {
            throw new SQLNonTransientConnectionException(e.getMessage(), "08001", e);
        } finally {
            attempts.finish();
        }
        physical = taken.connection();
        region = taken.region();
        physicalReadOnly = readOnly;
        mayHaveWritten = write && SqlVerbs.mayWrite(verb);
        if (!write) {
            dataSource.recordRead(dataClass, session, region);
        }
        return taken.result();
    }

    /** Collects the physical connections attempts took, so that every one the call does not keep is given back. */
    private final class Attempts<T> {
        // Usually one attempt: its connection has a field, any other goes to the list (made only then).
        private Connection first;
        private List<Connection> others;
        private final Thread caller = Thread.currentThread();
        /** How long the attempt run on the caller may block on a socket, in milliseconds; 0: no cut. */
        private final long callerCutMillis;
        private Connection kept;
        private boolean finished;

        Attempts(long callerCutMillis) {
            this.callerCutMillis = callerCutMillis;
        }

        Taken<T> attempt(RegionSpec r, PhysicalWork<T> work) throws SQLException {
            Connection c = dataSource.regionDataSource(r.id()).getConnection();
            try {
                applySettings(c);
                T result = callerCutMillis > 0 && Thread.currentThread() == caller
                        ? runCut(c, callerCutMillis, work) : work.run(c);
                synchronized (this) {
                    if (finished) {
                        // The call already ended (another region answered, or the deadline passed).
                        closeQuietly(c);
                    } else if (first == null) {
                        first = c;
                    } else {
                        if (others == null) {
                            others = new ArrayList<>(2);
                        }
                        others.add(c);
                    }
                }
                return new Taken<>(r.id(), c, result);
            } catch (SQLException | RuntimeException e) {
                closeQuietly(c);
                throw e;
            }
        }

        synchronized void keep(Connection c) {
            kept = c;
            closeAllBut(c);
        }

        synchronized void finish() {
            finished = true;
            if (kept == null) {
                // Reached when the call failed: the connections of attempts that lost are given back here.
                closeAllBut(null);
            }
        }

        private void closeAllBut(Connection keep) {
            if (first != null && first != keep) {
                closeQuietly(first);
            }
            if (others != null) {
                for (Connection other : others) {
                    if (other != keep) {
                        closeQuietly(other);
                    }
                }
            }
        }
    }

    /**
     * Runs {@code work} on {@code c} with the connection's network timeout lowered to {@code cutMillis} (unless the
     * application set a lower one), then puts the timeout back. The engine cannot take the calling thread back from a
     * blocked socket read, so this is what ends an attempt run on the caller when its region stops answering.
     */
    private static <T> T runCut(Connection c, long cutMillis, PhysicalWork<T> work) throws SQLException {
        int before = c.getNetworkTimeout();
        int cut = (int) Math.min(Integer.MAX_VALUE, cutMillis);
        if (before > 0 && before <= cut) {
            return work.run(c);
        }
        c.setNetworkTimeout(DIRECT, cut);
        T result;
        try {
            result = work.run(c);
        } catch (SQLException | RuntimeException e) {
            // Put back for the pool's next user. A connection the cut broke refuses; that is noted on the error.
            try {
                c.setNetworkTimeout(DIRECT, before);
            } catch (SQLException | RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        c.setNetworkTimeout(DIRECT, before);
        return result;
    }

    /** Runs {@code work} with a physical connection, taking one (without a statement) if none is held. */
    private Connection physical() throws SQLException {
        return run(null, 0, c -> c);
    }

    private void applySettings(Connection c) throws SQLException {
        if (c.getAutoCommit() != autoCommit) {
            c.setAutoCommit(autoCommit);
        }
        if (c.isReadOnly() != readOnly) {
            c.setReadOnly(readOnly);
        }
        if (isolation != null) {
            c.setTransactionIsolation(isolation);
        }
        if (schema != null) {
            c.setSchema(schema);
        }
        if (catalog != null) {
            c.setCatalog(catalog);
        }
        if (holdability != null) {
            c.setHoldability(holdability);
        }
        if (clientInfo != null) {
            c.setClientInfo(clientInfo);
        }
        if (typeMap != null) {
            c.setTypeMap(typeMap);
        }
        if (networkTimeoutMillis != null) {
            c.setNetworkTimeout(networkTimeoutExecutor, networkTimeoutMillis);
        }
    }

    String dataClass() {
        return schema != null ? schema : dataSource.defaultSchema();
    }

    /** The region of the physical connection held, or {@code null}; for tests and logs. */
    String region() {
        return region;
    }

    /** Called when {@code s} took its physical statement on the physical connection held now. */
    void statementBound(LogicalStatement s) {
        onPhysical.add(s);
    }

    void statementClosed(LogicalStatement s) {
        removeLast(statements, s);
        removeLast(onPhysical, s);
    }

    /** Removes {@code s} by identity, looking from the end: statements are usually closed newest first. */
    private static void removeLast(List<LogicalStatement> list, LogicalStatement s) {
        for (int i = list.size() - 1; i >= 0; i--) {
            if (list.get(i) == s) {
                list.remove(i);
                return;
            }
        }
    }

    /**
     * Called before a statement that already ran once runs again on {@code statementPhysical}.
     *
     * @param sql the statement, or {@code null} if not known (a batch)
     */
    void beforeExecute(Connection statementPhysical, String sql) {
        if (statementPhysical == physical && !physicalReadOnly
                && (sql == null || SqlVerbs.mayWrite(SqlVerbs.verb(sql)))) {
            mayHaveWritten = true;
        }
    }

    /**
     * Turns a failure of work on the held physical connection {@code on} into what the application should see. A
     * failure of the statement itself passes through. A lost connection is given up (the next unit of work takes a new
     * one where the engine plans); if it was read-write work, the writer is looked for: a transaction that had not
     * committed was rolled back; an auto-commit statement that may have run has an unknown outcome; one that was not
     * sent failed over.
     */
    SQLException failed(SQLException e, Connection on) {
        FailureKind kind = JdbcErrorClassifier.create().classify(e);
        if (on != physical || kind == FailureKind.CALLER) {
            return e;
        }
        String lost = region;
        boolean readWrite = !physicalReadOnly;
        closeQuietly(physical);
        unbind();
        onPhysical.clear();
        if (!readWrite) {
            return e;
        }
        if (!autoCommit) {
            SQLException rolledBack = new SQLTransactionRollbackException("the connection to the writer in region "
                    + lost + " was lost before the transaction committed, so it was rolled back: run the whole"
                    + " transaction again", "40000", e);
            try {
                dataSource.findWriter(lost);
            } catch (SplitBrainException f) {
                f.addSuppressed(rolledBack);
                return f; // two writers: nothing may be written until an operator has fenced one
            } catch (SQLException f) {
                rolledBack.addSuppressed(f);
            }
            return rolledBack;
        }
        return writerLost(lost, e, kind != FailureKind.REGION_UNAVAILABLE, -1);
    }

    /**
     * After read-write work could not reach the writer in {@code lost}: finds the writer and says what became of the
     * work.
     *
     * @param mayHaveApplied whether the work may have committed (an auto-commit statement that was sent)
     * @param xid the transaction's id, or -1 if not known
     */
    private SQLException writerLost(String lost, Exception cause, boolean mayHaveApplied, long xid) {
        String found;
        try {
            found = dataSource.findWriter(lost);
        } catch (SplitBrainException f) {
            f.addSuppressed(cause);
            return f; // two writers: nothing may be written until an operator has fenced one
        } catch (SQLException f) {
            if (mayHaveApplied) {
                SQLException unknown = new CommitOutcomeUnknownException(lost, null, xid, cause);
                unknown.addSuppressed(f);
                return unknown;
            }
            f.addSuppressed(cause);
            return f;
        }
        if (mayHaveApplied) {
            return new CommitOutcomeUnknownException(lost, found, xid, cause);
        }
        if (found.equals(lost)) {
            return new SQLTransientConnectionException("the writer in region " + lost + " could not be reached and is"
                    + " still the writer: retry later", "08001", cause);
        }
        return new FailedOverException(lost, found, cause);
    }

    /**
     * After COMMIT failed on a lost connection: asks the writer (the same one, or the one promoted since) whether the
     * work of the transaction that ran at {@code origin} is there.
     *
     * @param origin where the transaction ran, or {@code null} if it wrote nothing
     * @return {@code null} if it committed (the commit succeeded after all), else the exception to throw
     */
    private SQLException commitFailed(SQLException e, CommitFate.Origin origin) {
        if (JdbcErrorClassifier.create().classify(e) == FailureKind.CALLER) {
            return e;
        }
        String lost = region;
        closeQuietly(physical);
        unbind();
        onPhysical.clear();
        if (origin == null) {
            return null; // the transaction wrote nothing: there was nothing to commit
        }
        long xid = origin.xid();
        String found;
        try {
            found = dataSource.findWriter(lost);
        } catch (SQLException f) {
            SQLException unknown = new CommitOutcomeUnknownException(lost, null, xid, e);
            unknown.addSuppressed(f);
            return unknown;
        }
        try (Connection c = dataSource.regionDataSource(found).getConnection()) {
            c.setAutoCommit(true);
            switch (CommitFate.resolve(c, origin)) {
                case COMMITTED:
                    dataSource.currentSession().recordWrite(dataClass(), null,
                            NodeInspector.inspect(found, c).lsn(), found);
                    return null;
                case NOT_ON_WRITER:
                    return new SQLTransactionRollbackException("the connection to the writer in region " + lost
                            + " was lost while transaction " + xid + " committed, and its work is not on the writer in"
                            + " region " + found + " (it did not commit, or its commit never reached that writer"
                            + " before it was promoted): run the whole transaction again", "40000", e);
                default:
                    return new CommitOutcomeUnknownException(lost, found, xid, e);
            }
        } catch (SQLException f) {
            SQLException unknown = new CommitOutcomeUnknownException(lost, found, xid, e);
            unknown.addSuppressed(f);
            return unknown;
        }
    }

    /**
     * Records in the session what the unit of work on the held physical connection did on the writer: after
     * read-write work that may have written, the writer's WAL position as a write, so that the session's later reads
     * are served only where it was replayed; after read-only work the writer served (a fallback, or a session that
     * had to see its writes), the same position as a read, so that later reads never see older data.
     */
    private void recordWriterPosition() throws SQLException {
        boolean wrote = !physicalReadOnly && mayHaveWritten;
        boolean readOnWriter = physicalReadOnly && region.equals(dataSource.writerRegion());
        mayHaveWritten = false;
        if (!wrote && !readOnWriter) {
            return;
        }
        boolean wasAutoCommit = physical.getAutoCommit();
        if (!wasAutoCommit) {
            // Outside a transaction, so that reading the position opens none.
            physical.setAutoCommit(true);
        }
        // The insert position, not the written one: with asynchronous commit the commit record may not be written
        // out yet when COMMIT returns, and replicas must be asked for everything up to it.
        NodeState state = NodeInspector.inspect(region, physical);
        if (!wasAutoCommit) {
            physical.setAutoCommit(false);
        }
        Session session = dataSource.currentSession();
        if (wrote) {
            session.recordWrite(dataClass(), null, state.lsn(), region);
        } else {
            session.recordRead(dataClass(), null, state.lsn(), region);
        }
    }

    /** Gives the physical connection back after a transaction, unless statements still use it. */
    private void releaseIfIdle() throws SQLException {
        if (physical != null && onPhysical.isEmpty()) {
            Connection c = physical;
            unbind();
            c.close();
        }
    }

    /** Leaves the physical connection to the statements still open on it and takes a new one at the next statement. */
    private void retire() throws SQLException {
        recordWriterPosition();
        Connection c = physical;
        unbind();
        if (onPhysical.isEmpty()) {
            c.close();
        } else {
            // Those statements keep running where they started; the connection closes with this logical one.
            onPhysical.clear();
            retired.add(c);
        }
    }

    private void unbind() {
        physical = null;
        region = null;
        mayHaveWritten = false;
    }

    private void checkOpen() throws SQLException {
        if (closed) {
            throw new SQLNonTransientConnectionException("This connection is closed", CLOSED_STATE);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Closing a physical connection failed", e);
        }
    }

    // ---- statements

    @Override
    public Statement createStatement() throws SQLException {
        return statement(Statement.class, null, c -> c.createStatement());
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency) throws SQLException {
        return statement(Statement.class, null, c -> c.createStatement(resultSetType, resultSetConcurrency));
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency, int resultSetHoldability)
            throws SQLException {
        return statement(Statement.class, null,
                c -> c.createStatement(resultSetType, resultSetConcurrency, resultSetHoldability));
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        return statement(PreparedStatement.class, sql, c -> c.prepareStatement(sql));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency)
            throws SQLException {
        return statement(PreparedStatement.class, sql,
                c -> c.prepareStatement(sql, resultSetType, resultSetConcurrency));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency,
            int resultSetHoldability) throws SQLException {
        return statement(PreparedStatement.class, sql,
                c -> c.prepareStatement(sql, resultSetType, resultSetConcurrency, resultSetHoldability));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        return statement(PreparedStatement.class, sql, c -> c.prepareStatement(sql, autoGeneratedKeys));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        return statement(PreparedStatement.class, sql, c -> c.prepareStatement(sql, columnIndexes));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        return statement(PreparedStatement.class, sql, c -> c.prepareStatement(sql, columnNames));
    }

    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        return statement(CallableStatement.class, sql, c -> c.prepareCall(sql));
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency)
            throws SQLException {
        return statement(CallableStatement.class, sql, c -> c.prepareCall(sql, resultSetType, resultSetConcurrency));
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency,
            int resultSetHoldability) throws SQLException {
        return statement(CallableStatement.class, sql,
                c -> c.prepareCall(sql, resultSetType, resultSetConcurrency, resultSetHoldability));
    }

    private <S extends Statement> S statement(Class<S> type, String sql, LogicalStatement.Factory factory)
            throws SQLException {
        checkOpen();
        LogicalStatement s = new LogicalStatement(this, sql, factory);
        statements.add(s);
        return s.proxy(type);
    }

    // ---- transactions

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        checkOpen();
        if (physical != null && autoCommit != this.autoCommit) {
            physical.setAutoCommit(autoCommit);
            this.autoCommit = autoCommit;
            if (autoCommit) {
                // Turning auto-commit on committed the transaction.
                recordWriterPosition();
                releaseIfIdle();
            }
            return;
        }
        this.autoCommit = autoCommit;
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        checkOpen();
        return autoCommit;
    }

    @Override
    public void commit() throws SQLException {
        checkOpen();
        if (autoCommit) {
            throw new SQLNonTransientConnectionException("Cannot commit when auto-commit is on", "25P01");
        }
        if (physical == null) {
            return; // no statement ran: nothing to commit
        }
        // Where the transaction runs, so that its fate can be asked of the writer if the connection is lost while it
        // commits.
        CommitFate.Origin origin;
        try {
            origin = !physicalReadOnly && mayHaveWritten ? CommitFate.beforeCommit(physical) : null;
        } catch (SQLException e) {
            throw failed(e, physical); // COMMIT was not sent: the transaction did not commit
        }
        try {
            physical.commit();
        } catch (SQLException e) {
            SQLException failure = commitFailed(e, origin);
            if (failure != null) {
                throw failure;
            }
            return;
        }
        recordCommitted();
        releaseIfIdle();
    }

    /**
     * {@link #recordWriterPosition()} after work that committed: a failure to read the position (the writer lost just
     * after the commit) is logged, not thrown, since failing now would make the application run committed work twice.
     */
    private void recordCommitted() {
        try {
            recordWriterPosition();
        } catch (SQLException e) {
            LOG.warn("Work committed in region {}, but the writer's position could not be read for the session; its"
                    + " next reads may not see this write", region, e);
        }
    }

    @Override
    public void rollback() throws SQLException {
        checkOpen();
        if (autoCommit) {
            throw new SQLNonTransientConnectionException("Cannot roll back when auto-commit is on", "25P01");
        }
        if (physical == null) {
            return;
        }
        physical.rollback();
        mayHaveWritten = false;
        recordWriterPosition();
        releaseIfIdle();
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        return physical().setSavepoint();
    }

    @Override
    public Savepoint setSavepoint(String name) throws SQLException {
        return physical().setSavepoint(name);
    }

    @Override
    public void rollback(Savepoint savepoint) throws SQLException {
        requirePhysical("rollback(Savepoint)").rollback(savepoint);
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        requirePhysical("releaseSavepoint").releaseSavepoint(savepoint);
    }

    private Connection requirePhysical(String what) throws SQLException {
        checkOpen();
        if (physical == null) {
            throw new SQLException(what + ": no transaction is in progress, so the savepoint is not valid", "3B001");
        }
        return physical;
    }

    // ---- settings carried between physical connections

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        checkOpen();
        if (physical != null) {
            if (!autoCommit) {
                // Inside a transaction the driver refuses a change, as JDBC asks; outside one it is a new unit of work.
                physical.setReadOnly(readOnly);
            } else if (readOnly != physicalReadOnly) {
                retire();
            }
        }
        this.readOnly = readOnly;
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        checkOpen();
        return readOnly;
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        checkOpen();
        if (physical != null) {
            physical.setTransactionIsolation(level);
        }
        this.isolation = level;
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        checkOpen();
        return isolation != null ? isolation : physical().getTransactionIsolation();
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        checkOpen();
        if (physical != null) {
            physical.setSchema(schema);
        }
        this.schema = schema;
    }

    @Override
    public String getSchema() throws SQLException {
        checkOpen();
        return schema != null ? schema : physical().getSchema();
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        checkOpen();
        if (physical != null) {
            physical.setCatalog(catalog);
        }
        this.catalog = catalog;
    }

    @Override
    public String getCatalog() throws SQLException {
        checkOpen();
        return catalog != null ? catalog : physical().getCatalog();
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        checkOpen();
        if (physical != null) {
            physical.setHoldability(holdability);
        }
        this.holdability = holdability;
    }

    @Override
    public int getHoldability() throws SQLException {
        checkOpen();
        return holdability != null ? holdability : physical().getHoldability();
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        if (closed) {
            throw new SQLClientInfoException("This connection is closed", CLOSED_STATE, 0, Map.of());
        }
        if (physical != null) {
            physical.setClientInfo(name, value);
        }
        if (value == null) {
            if (clientInfo != null) {
                clientInfo.remove(name);
            }
        } else {
            if (clientInfo == null) {
                clientInfo = new Properties();
            }
            clientInfo.setProperty(name, value);
        }
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        if (closed) {
            throw new SQLClientInfoException("This connection is closed", CLOSED_STATE, 0, Map.of());
        }
        if (physical != null) {
            physical.setClientInfo(properties);
        }
        clientInfo = new Properties();
        clientInfo.putAll(properties);
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        checkOpen();
        if (physical != null) {
            return physical.getClientInfo(name);
        }
        return clientInfo != null ? clientInfo.getProperty(name) : null;
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        checkOpen();
        if (physical != null) {
            return physical.getClientInfo();
        }
        Properties copy = new Properties();
        if (clientInfo != null) {
            copy.putAll(clientInfo);
        }
        return copy;
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        checkOpen();
        return typeMap != null ? typeMap : physical().getTypeMap();
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        checkOpen();
        if (physical != null) {
            physical.setTypeMap(map);
        }
        this.typeMap = map;
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        checkOpen();
        if (milliseconds < 0) {
            throw new SQLException("Network timeout must be zero or more, got " + milliseconds, "22023");
        }
        if (physical != null) {
            physical.setNetworkTimeout(executor, milliseconds);
        }
        this.networkTimeoutExecutor = executor;
        this.networkTimeoutMillis = milliseconds;
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        checkOpen();
        return networkTimeoutMillis != null ? networkTimeoutMillis : physical().getNetworkTimeout();
    }

    // ---- the rest of Connection

    @Override
    public String nativeSQL(String sql) throws SQLException {
        return physical().nativeSQL(sql);
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        return physical().getMetaData();
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        checkOpen();
        return physical != null ? physical.getWarnings() : null;
    }

    @Override
    public void clearWarnings() throws SQLException {
        checkOpen();
        if (physical != null) {
            physical.clearWarnings();
        }
    }

    @Override
    public Clob createClob() throws SQLException {
        return physical().createClob();
    }

    @Override
    public Blob createBlob() throws SQLException {
        return physical().createBlob();
    }

    @Override
    public NClob createNClob() throws SQLException {
        return physical().createNClob();
    }

    @Override
    public SQLXML createSQLXML() throws SQLException {
        return physical().createSQLXML();
    }

    @Override
    public Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        return physical().createArrayOf(typeName, elements);
    }

    @Override
    public Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        return physical().createStruct(typeName, attributes);
    }

    /**
     * Whether the connection can be used: a logical connection holding no physical one is valid until closed (the
     * next statement takes a connection in a region the engine finds healthy).
     */
    @Override
    public boolean isValid(int timeout) throws SQLException {
        if (timeout < 0) {
            throw new SQLException("Timeout must be zero or more, got " + timeout, "22023");
        }
        if (closed) {
            return false;
        }
        return physical == null || physical.isValid(timeout);
    }

    @Override
    public void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        SQLException failure = null;
        Connection held = physical;
        if (held != null) {
            if (autoCommit) {
                recordCommitted(); // the auto-commit statements committed as they ran
            }
            unbind();
        }
        // Index loops: this runs once per unit of work in the usual connection-per-request code, mostly on empty lists.
        for (int i = 0; i < statements.size(); i++) {
            statements.get(i).connectionClosed();
        }
        statements.clear();
        onPhysical.clear();
        if (held != null) {
            failure = closeNoting(held, failure);
        }
        for (int i = 0; i < retired.size(); i++) {
            failure = closeNoting(retired.get(i), failure);
        }
        retired.clear();
        if (failure != null) {
            throw failure;
        }
    }

    /** Closes {@code c}; returns {@code failure}, or the close's own failure (added to it if there was one). */
    private static SQLException closeNoting(Connection c, SQLException failure) {
        try {
            c.close();
        } catch (SQLException e) {
            if (failure == null) {
                return e;
            }
            failure.addSuppressed(e);
        }
        return failure;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        if (executor == null) {
            throw new SQLException("abort needs an executor", "22004");
        }
        if (closed) {
            return;
        }
        closed = true;
        Connection c = physical;
        List<Connection> others = new ArrayList<>(retired);
        if (c != null) {
            others.add(c);
        }
        for (Connection o : others) {
            o.abort(executor);
            // A pool counts an aborted connection as in use until it is closed; closing it makes the pool drop it.
            executor.execute(() -> closeQuietly(o));
        }
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        return physical().unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || physical().isWrapperFor(iface);
    }

    @Override
    public String toString() {
        return "LogicalConnection[" + (closed ? "closed" : region != null ? "in " + region : "no physical connection")
                + (readOnly ? ", read-only" : "") + (autoCommit ? "" : ", in a transaction") + "]";
    }
}
