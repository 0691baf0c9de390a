package dev.latitude.dynamodb;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.simple.SimpleServiceProvider;
import org.slf4j.spi.LoggingEventBuilder;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J provider of this module's tests: every logger writes through slf4j-simple as usual, and while
 * {@link #start() recording}, the SDK's loggers ({@code dev.latitude}, the test kit's excepted) are enabled at every
 * level and what they log is kept, message and throwable, for tests that check what the SDK logs.
 *
 * <p>It is registered in the test resources ({@code META-INF/services}); test classes come first on the class path,
 * so SLF4J takes it rather than slf4j-simple's own registration (and says it found two). It is not named by the
 * {@code slf4j.provider} system property, which WireMock's shaded SLF4J would read too and fail to load.
 */
public final class LogCapture implements SLF4JServiceProvider {
    private static final List<String> RECORDED = new ArrayList<>();
    private static volatile boolean recording;

    private final SimpleServiceProvider simple = new SimpleServiceProvider();
    private ILoggerFactory factory;

    /** Returns whether SLF4J uses this provider, so that tests relying on it can say why they cannot run. */
    static boolean installed() {
        return LoggerFactory.getILoggerFactory() instanceof Factory;
    }

    /** Forgets what was recorded and records from now on. */
    static void start() {
        synchronized (RECORDED) {
            RECORDED.clear();
        }
        recording = true;
    }

    /** Stops recording and returns each line logged since {@link #start()}, with its throwables' messages. */
    static List<String> stop() {
        recording = false;
        synchronized (RECORDED) {
            return List.copyOf(RECORDED);
        }
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return simple.getMarkerFactory();
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return simple.getMDCAdapter();
    }

    @Override
    public String getRequestedApiVersion() {
        return simple.getRequestedApiVersion();
    }

    @Override
    public void initialize() {
        simple.initialize();
        factory = new Factory(simple.getLoggerFactory());
    }

    /** Hands out recording loggers wrapping slf4j-simple's. */
    private static final class Factory implements ILoggerFactory {
        private final ILoggerFactory delegate;
        private final ConcurrentHashMap<String, Logger> loggers = new ConcurrentHashMap<>();

        Factory(ILoggerFactory delegate) {
            this.delegate = delegate;
        }

        @Override
        public Logger getLogger(String name) {
            return loggers.computeIfAbsent(name, n -> new Recording(n, delegate.getLogger(n)));
        }
    }

    /** A logger that keeps what it logs while recording (if it is one of the SDK's) and passes it on. */
    private static final class Recording extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;
        private final transient Logger delegate;
        private final boolean sdk;

        Recording(String name, Logger delegate) {
            this.name = name;
            this.delegate = delegate;
            this.sdk = name.startsWith("dev.latitude.") && !name.startsWith("dev.latitude.testkit.");
        }

        private boolean records() {
            return sdk && recording;
        }

        @Override
        public boolean isTraceEnabled() {
            return records() || delegate.isTraceEnabled();
        }

        @Override
        public boolean isDebugEnabled() {
            return records() || delegate.isDebugEnabled();
        }

        @Override
        public boolean isInfoEnabled() {
            return records() || delegate.isInfoEnabled();
        }

        @Override
        public boolean isWarnEnabled() {
            return records() || delegate.isWarnEnabled();
        }

        @Override
        public boolean isErrorEnabled() {
            return records() || delegate.isErrorEnabled();
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
                Throwable throwable) {
            if (records()) {
                StringBuilder line = new StringBuilder().append(level).append(' ').append(name).append(" - ")
                        .append(MessageFormatter.basicArrayFormat(pattern, arguments));
                for (Throwable t = throwable; t != null; t = t.getCause()) {
                    line.append(" | ").append(t);
                }
                synchronized (RECORDED) {
                    RECORDED.add(line.toString());
                }
            }
            if (delegate.isEnabledForLevel(level)) {
                LoggingEventBuilder event = delegate.makeLoggingEventBuilder(level).setMessage(pattern)
                        .setCause(throwable);
                if (arguments != null) {
                    for (Object a : arguments) {
                        event.addArgument(a);
                    }
                }
                event.log();
            }
        }
    }
}
