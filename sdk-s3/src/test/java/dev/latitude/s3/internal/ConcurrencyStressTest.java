package dev.latitude.s3.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.s3.BodyNotReplayableException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * Stress tests of the two thread-safety claims of the S3 internals: {@link OpenStreams} aborts every body but the
 * winner exactly once, however attempts and the settling race; {@link BodyGuard} lets one region only read a body that
 * cannot be replayed, however attempts in two regions race for it.
 */
class ConcurrencyStressTest {
    private static final int ROUNDS = 500;

    @Test
    void openStreams_abortsEveryLoserExactlyOnce_andNeverTheWinner() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                Map<Integer, AtomicInteger> aborts = new ConcurrentHashMap<>();
                OpenStreams<Integer> streams = new OpenStreams<>(
                        s -> aborts.computeIfAbsent(s, k -> new AtomicInteger()).incrementAndGet());
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> attempts = new ArrayList<>();
                for (int i = 1; i <= 3; i++) {
                    int body = i;
                    attempts.add(pool.submit(() -> {
                        start.await();
                        return streams.opened(body);
                    }));
                }
                int winner = 1 + round % 3;
                start.countDown();
                streams.settle(winner);
                for (Future<?> f : attempts) {
                    f.get(10, TimeUnit.SECONDS);
                }
                for (int i = 1; i <= 3; i++) {
                    int expected = i == winner ? 0 : 1;
                    assertThat(aborts.getOrDefault(i, new AtomicInteger()).get()).as("round %d body %d", round, i)
                            .isEqualTo(expected);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void bodyGuard_letsOneRegionOnlyReadABodyThatCannotBeReplayed() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                RequestBody body = RequestBody.fromContentProvider(() -> new ByteArrayInputStream(new byte[1]), 1,
                        "application/octet-stream");
                BodyGuard guard = BodyGuard.of("PutObject", body);
                CountDownLatch start = new CountDownLatch(1);
                List<Future<String>> reads = new ArrayList<>();
                for (String region : List.of("us-east-1", "eu-west-1")) {
                    reads.add(pool.submit(() -> {
                        start.await();
                        try (InputStream in = guard.wrap(body, region).contentStreamProvider().newStream()) {
                            return region;
                        } catch (BodyNotReplayableException e) {
                            return null;
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        }
                    }));
                }
                start.countDown();
                int readers = 0;
                for (Future<String> f : reads) {
                    if (f.get(10, TimeUnit.SECONDS) != null) {
                        readers++;
                    }
                }
                assertThat(readers).as("round %d", round).isEqualTo(1);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
