package dev.latitude.s3;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * One-way replication of one bucket to another with a fixed lag, for tests: each key a test reports written is copied
 * (body and user metadata, or its absence) from the source to the target {@code lag} later, in the order reported, by
 * one thread, as S3 replication would (late, but never reordering a key's versions).
 */
final class LaggedReplication implements AutoCloseable {
    private final S3Client source;
    private final String sourceBucket;
    private final S3Client target;
    private final String targetBucket;
    private final Duration lag;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lagged-replication");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger pending = new AtomicInteger();

    LaggedReplication(S3Client source, String sourceBucket, S3Client target, String targetBucket, Duration lag) {
        this.source = source;
        this.sourceBucket = sourceBucket;
        this.target = target;
        this.targetBucket = targetBucket;
        this.lag = lag;
    }

    /** Replicates {@code key}'s state as it will be at the source {@code lag} from now. */
    void changed(String key) {
        pending.incrementAndGet();
        thread.schedule(() -> {
            try {
                copy(key);
            } finally {
                pending.decrementAndGet();
            }
        }, lag.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void copy(String key) {
        ResponseBytes<GetObjectResponse> object;
        try {
            object = source.getObjectAsBytes(g -> g.bucket(sourceBucket).key(key));
        } catch (NoSuchKeyException e) {
            target.deleteObject(d -> d.bucket(targetBucket).key(key));
            return;
        }
        target.putObject(p -> p.bucket(targetBucket).key(key).metadata(object.response().metadata()),
                RequestBody.fromBytes(object.asByteArray()));
    }

    /** Waits until every reported change has been copied (at most 30 s). */
    void awaitQuiescent() throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (pending.get() > 0 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
