package dev.latitude.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.LatitudeConfigException;
import java.time.Duration;
import java.util.Map;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.junit.jupiter.api.Test;

/** The arithmetic and validation that need no server: WAL page boundaries, timeline histories, the locator's settings. */
class NodeInspectorTest {
    private static final long BLOCK = 8192;
    private static final long SEGMENT = 16L << 20;

    @Test
    void recordBoundary_pastAPageHeader_movesBackToTheBoundary() {
        assertThat(NodeInspector.recordBoundary(5 * BLOCK + 24, BLOCK, SEGMENT)).isEqualTo(5 * BLOCK);
        assertThat(NodeInspector.recordBoundary(3 * SEGMENT + 40, BLOCK, SEGMENT)).isEqualTo(3 * SEGMENT);
    }

    @Test
    void recordBoundary_elsewhere_isUnchanged() {
        assertThat(NodeInspector.recordBoundary(5 * BLOCK + 100, BLOCK, SEGMENT)).isEqualTo(5 * BLOCK + 100);
        assertThat(NodeInspector.recordBoundary(3 * SEGMENT + 24, BLOCK, SEGMENT)).isEqualTo(3 * SEGMENT + 24);
    }

    @Test
    void switchPoint_timelineHistory_givesWhereEachPastTimelineEnded() {
        String history = "1\t0/3000060\tno recovery target specified\n\n2\t1/A0000D8\tno recovery target specified\n";
        assertThat(CommitFate.switchPoint(history, 1)).isEqualTo(0x3000060L);
        assertThat(CommitFate.switchPoint(history, 2)).isEqualTo((1L << 32) | 0xA0000D8L);
        assertThat(CommitFate.switchPoint(history, 3)).isEqualTo(-1);
    }

    @Test
    void writerLocator_refusesNoRegionsOrATimeoutThatIsNotPositive() {
        DataSource ds = new PGSimpleDataSource();
        assertThatThrownBy(() -> new WriterLocator(Map.of(), Runnable::run, Duration.ofSeconds(1)))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("regions");
        assertThatThrownBy(() -> new WriterLocator(Map.of("a", ds), Runnable::run, Duration.ZERO))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("writerSearchTimeout");
    }
}
