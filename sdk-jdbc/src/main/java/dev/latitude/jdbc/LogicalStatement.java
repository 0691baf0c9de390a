package dev.latitude.jdbc;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A statement of a {@link LogicalConnection}, given to the application as a {@link Statement},
 * {@link java.sql.PreparedStatement} or {@link java.sql.CallableStatement} proxy. Until it first runs it holds no
 * physical statement: settings and parameters are recorded, and at the first {@code execute...} they are replayed on a
 * physical statement in the region the engine picked (again in the next region if that one fails). From then on every
 * call goes to the physical statement. {@link Statement#getConnection()} returns the logical connection.
 */
final class LogicalStatement implements InvocationHandler {
    /** Creates the physical statement on a physical connection, as the application asked for the logical one. */
    @FunctionalInterface
    interface Factory {
        Statement create(Connection physical) throws SQLException;
    }

    private record Call(Method method, Object[] args) {
    }

    private record Executed(Statement statement, Connection physical, Object result) {
    }

    private final LogicalConnection connection;
    private final String sql;
    private final Factory factory;
    private final List<Call> recorded = new ArrayList<>();
    private Statement delegate;
    private Connection delegatePhysical;
    private int queryTimeout;
    private boolean closed;

    LogicalStatement(LogicalConnection connection, String sql, Factory factory) {
        this.connection = connection;
        this.sql = sql;
        this.factory = factory;
    }

    /**
     * The constructors of the three proxy classes, looked up once: {@link Proxy#newProxyInstance} finds the class
     * (a cache lookup keyed by class loader and interface list) and calls its constructor reflectively on every call,
     * which costs more than the rest of creating a statement.
     */
    private static final MethodHandle NEW_STATEMENT = proxyConstructor(Statement.class);
    private static final MethodHandle NEW_PREPARED = proxyConstructor(PreparedStatement.class);
    private static final MethodHandle NEW_CALLABLE = proxyConstructor(CallableStatement.class);

    private static MethodHandle proxyConstructor(Class<? extends Statement> type) {
        InvocationHandler none = (proxy, method, args) -> null;
        Class<?> proxyClass = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, none).getClass();
        try {
            // A proxy of public interfaces is a public class in an exported package, with a public constructor.
            return MethodHandles.publicLookup()
                    .findConstructor(proxyClass, MethodType.methodType(void.class, InvocationHandler.class))
                    .asType(MethodType.methodType(Statement.class, InvocationHandler.class));
        } catch (NoSuchMethodException | IllegalAccessException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    <S extends Statement> S proxy(Class<S> type) {
        MethodHandle constructor = type == PreparedStatement.class ? NEW_PREPARED
                : type == CallableStatement.class ? NEW_CALLABLE : NEW_STATEMENT;
        try {
            return type.cast((Statement) constructor.invokeExact((InvocationHandler) this));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("creating a " + type.getSimpleName() + " proxy failed", e);
        }
    }

    /** Marks the statement closed because its connection closed (its physical statement closes with it). */
    void connectionClosed() {
        closed = true;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (method.getDeclaringClass() == Object.class) {
            switch (name) {
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                default:
                    return toString();
            }
        }
        switch (name) {
            case "close":
                close();
                return null;
            case "isClosed":
                return closed || (delegate != null && delegate.isClosed());
            case "unwrap":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return proxy;
                }
                break;
            case "isWrapperFor":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return true;
                }
                break;
            default:
                if (method.isDefault() && (name.startsWith("enquote") || name.equals("isSimpleIdentifier"))) {
                    // Pure string functions: no connection needed.
                    return InvocationHandler.invokeDefault(proxy, method, args);
                }
                break;
        }
        if (closed) {
            throw new SQLException("This statement is closed", "HY010");
        }
        if (name.equals("getConnection")) {
            return connection;
        }
        boolean execute = name.startsWith("execute");
        if (delegate == null) {
            if (execute) {
                return executeFirst(method, args);
            }
            Object answer = beforeBinding(method, args);
            if (answer != NEEDS_STATEMENT) {
                return answer;
            }
            Executed bound = connection.run(sql, queryTimeout, c -> new Executed(create(c), c, null));
            bind(bound);
        } else if (execute) {
            connection.beforeExecute(delegatePhysical, sqlOf(name, args));
        }
        try {
            return call(delegate, method, args);
        } catch (SQLException e) {
            throw connection.failed(e, delegatePhysical);
        }
    }

    private static final Object NEEDS_STATEMENT = new Object();

    /** Answers a call made before the statement ran, where that needs no physical statement. */
    private Object beforeBinding(Method method, Object[] args) {
        String name = method.getName();
        if (method.getReturnType() == void.class && (name.startsWith("set") || name.startsWith("clear")
                || name.equals("addBatch") || name.equals("registerOutParameter")
                || name.equals("closeOnCompletion"))) {
            if (name.equals("setQueryTimeout")) {
                queryTimeout = (Integer) args[0];
            }
            if (name.equals("clearParameters")) {
                recorded.removeIf(c -> isParameter(c.method));
            }
            recorded.add(new Call(method, args));
            return null;
        }
        switch (name) {
            case "getWarnings":
            case "getResultSet":
                return null;
            case "getUpdateCount":
                return -1;
            case "getLargeUpdateCount":
                return -1L;
            case "getMoreResults":
                return false;
            case "getQueryTimeout":
                return queryTimeout;
            default:
                return NEEDS_STATEMENT;
        }
    }

    private static boolean isParameter(Method m) {
        return m.getName().startsWith("set") && m.getParameterCount() >= 2
                && m.getParameterTypes()[0] == int.class
                && m.getDeclaringClass() != Statement.class;
    }

    /** The SQL an execute call runs: the prepared statement's, the argument of a plain one, none for a batch. */
    private String sqlOf(String method, Object[] args) {
        if (method.endsWith("Batch")) {
            return null;
        }
        return sql != null ? sql : args != null && args.length > 0 && args[0] instanceof String s ? s : null;
    }

    private Object executeFirst(Method method, Object[] args) throws SQLException {
        String text = sqlOf(method.getName(), args);
        Executed done = connection.run(text, queryTimeout, c -> {
            Statement s = create(c);
            try {
                return new Executed(s, c, call(s, method, args));
            } catch (SQLException | RuntimeException e) {
                closeQuietly(s);
                throw e;
            }
        });
        bind(done);
        return done.result();
    }

    private void bind(Executed executed) {
        delegate = executed.statement();
        delegatePhysical = executed.physical();
        recorded.clear();
        connection.statementBound(this);
    }

    /** Creates the physical statement and replays what the application set on the logical one. */
    private Statement create(Connection physical) throws SQLException {
        Statement s = factory.create(physical);
        try {
            for (Call c : recorded) {
                call(s, c.method, c.args);
            }
            return s;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(s);
            throw e;
        }
    }

    private static Object call(Object target, Method method, Object[] args) throws SQLException {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException sql) {
                throw sql;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new SQLException(cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(method + " is not accessible", e);
        }
    }

    private void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        connection.statementClosed(this);
        if (delegate != null) {
            delegate.close();
        }
    }

    private static void closeQuietly(Statement s) {
        try {
            s.close();
        } catch (SQLException | RuntimeException ignored) {
            // The connection is given back or closed next, which closes the statement anyway.
        }
    }

    @Override
    public String toString() {
        return "LogicalStatement[" + (sql != null ? sql : "") + (closed ? ", closed" : "") + "]";
    }
}
