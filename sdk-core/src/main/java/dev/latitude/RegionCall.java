package dev.latitude;

/**
 * One blocking attempt of a call in one region, for {@link Latitude#execute(Operation, RegionCall)}.
 *
 * <p>The engine runs it on its attempt executor, so that a slow or hung region can be abandoned at the attempt
 * timeout: on cancellation the running thread is interrupted. Checked exceptions of type {@code E} are thrown to
 * the caller as they are.
 *
 * @param <T> the result type
 * @param <E> the checked exception the call may throw (use {@code RuntimeException} if none)
 */
@FunctionalInterface
public interface RegionCall<T, E extends Exception> {

    /**
     * Performs the call against {@code region}.
     *
     * @param region the region chosen for this attempt
     * @return the result
     * @throws E if the call fails
     */
    T call(RegionSpec region) throws E;
}
