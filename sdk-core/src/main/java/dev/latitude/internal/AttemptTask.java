package dev.latitude.internal;

import io.opentelemetry.context.Context;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A blocking attempt run on an executor, exposed as a future whose {@code cancel(true)} interrupts the thread
 * running it (a plain {@link CompletableFuture} cannot). The interrupt never leaks into the executor's next task.
 * {@link #onExit(Runnable)} tells when the body has really returned (a cancelled task's thread may still be blocked in
 * it), which is when the attempt stops holding a thread.
 *
 * @param <T> the result type
 */
public final class AttemptTask<T> extends CompletableFuture<T> implements Runnable {
    private final Callable<T> body;
    private Thread runner; // guarded by this
    private boolean exited; // guarded by this
    private Runnable exitHook; // guarded by this

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
            task.exit();
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
        boolean skip;
        Runnable early = null;
        synchronized (this) {
            skip = isDone(); // cancelled before its turn came
            if (skip) {
                early = exitLocked();
            } else {
                runner = Thread.currentThread();
            }
        }
        if (skip) {
            if (early != null) {
                early.run();
            }
            return;
        }
        try {
            complete(body.call());
        } catch (Throwable t) {
            completeExceptionally(t);
        } finally {
            Runnable hook;
            synchronized (this) {
                runner = null;
                Thread.interrupted(); // clear an interrupt aimed at this task, so the next task does not see it
                hook = exitLocked();
            }
            if (hook != null) {
                hook.run();
            }
        }
    }

    /**
     * Runs {@code hook} once the body has returned, or the task was refused by its executor or found cancelled when its
     * turn came; at once if that has already happened. At most one hook.
     *
     * @param hook what to run, on the thread that ran the task (or the caller, if already exited)
     */
    public void onExit(Runnable hook) {
        boolean now;
        synchronized (this) {
            now = exited;
            if (!now) {
                exitHook = hook;
            }
        }
        if (now) {
            hook.run();
        }
    }

    private void exit() {
        Runnable hook;
        synchronized (this) {
            hook = exitLocked();
        }
        if (hook != null) {
            hook.run();
        }
    }

    /** Marks the task exited and returns the hook to run outside the lock, or {@code null}. */
    private Runnable exitLocked() {
        if (exited) {
            return null;
        }
        exited = true;
        Runnable hook = exitHook;
        exitHook = null;
        return hook;
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
