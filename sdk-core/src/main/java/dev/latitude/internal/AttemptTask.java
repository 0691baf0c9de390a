package dev.latitude.internal;

import io.opentelemetry.context.Context;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A blocking attempt run on an executor, exposed as a future whose {@code cancel(true)} interrupts the thread
 * running it (a plain {@link CompletableFuture} cannot). The interrupt never leaks into the executor's next task.
 *
 * @param <T> the result type
 */
public final class AttemptTask<T> extends CompletableFuture<T> implements Runnable {
    private final Callable<T> body;
    private Thread runner; // guarded by this

    private AttemptTask(Callable<T> body) {
        this.body = body;
    }

    /**
     * Runs {@code body} on {@code executor} in the current OpenTelemetry context.
     *
     * @param executor where to run it
     * @param body the blocking call
     * @param <T> the result type
     * @return the future of its result
     */
    public static <T> CompletableFuture<T> submit(Executor executor, Callable<T> body) {
        AttemptTask<T> task = new AttemptTask<>(Context.current().wrap(body));
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            task.completeExceptionally(e);
        }
        return task;
    }

    /**
     * Returns {@code body} as a task that has not been started: the caller runs it with {@link #run()} (on its own
     * thread), in the OpenTelemetry context current now.
     *
     * @param body the blocking call
     * @param <T> the result type
     * @return the task
     */
    public static <T> AttemptTask<T> deferred(Callable<T> body) {
        return new AttemptTask<>(Context.current().wrap(body));
    }

    @Override
    public void run() {
        synchronized (this) {
            if (isDone()) {
                return;
            }
            runner = Thread.currentThread();
        }
        try {
            complete(body.call());
        } catch (Throwable t) {
            completeExceptionally(t);
        } finally {
            synchronized (this) {
                runner = null;
                Thread.interrupted(); // clear an interrupt aimed at this task, so the next task does not see it
            }
        }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        if (cancelled && mayInterruptIfRunning) {
            synchronized (this) {
                if (runner != null) {
                    runner.interrupt();
                }
            }
        }
        return cancelled;
    }
}
