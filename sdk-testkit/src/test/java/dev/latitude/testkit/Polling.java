package dev.latitude.testkit;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Bounded polling for tests: every wait has a deadline, and nothing waits longer than it must. */
final class Polling {
    private Polling() {
    }

    /**
     * Evaluates {@code condition} every {@code interval} until it holds or {@code timeout} passes.
     *
     * @return whether the condition held in time
     */
    static boolean eventually(Duration timeout, Duration interval, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            LockSupport.parkNanos(interval.toNanos());
        }
    }

    /**
     * Runs {@code check} every {@code interval} for {@code window}: for asserting that something stays true over a
     * stretch of time (a check that throws ends the loop with its failure).
     *
     * @return how many times the check ran
     */
    static int throughout(Duration window, Duration interval, Runnable check) {
        long end = System.nanoTime() + window.toNanos();
        int runs = 0;
        do {
            check.run();
            runs++;
            LockSupport.parkNanos(interval.toNanos());
        } while (System.nanoTime() - end < 0);
        return runs;
    }
}
