package dev.latitude.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Keeps the DynamoDB demo honest: the session reads its own write, and no read fails during the blackhole. */
class DynamoDbDemoTest {

    @Test
    void run_readsItsOwnWriteAndLosesNoReadDuringTheBlackhole() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DynamoDbDemo.run(new String[] {"--reads", "20"}, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("PutItem order-1 status=PLACED -> taken by us-east-1")
                .contains("GetItem in the session: status=PLACED")
                .contains("GetItem without the session:")
                .contains("0 of 20 reads failed with eu-west-1 blackholed");
    }

    @Test
    void run_badArgument_namesItAndTheRange() {
        assertThatThrownBy(() -> DynamoDbDemo.run(new String[] {"--reads", "many"}, System.out))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--reads").hasMessageContaining("1 to 10000");
    }
}
