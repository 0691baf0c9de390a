package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * One {@link DynamoDbLocalRegion} on its own, the native library lookup, and the value types of replication (lag models
 * and settings) that need no server.
 */
class DynamoDbLocalRegionTest {

    @Test
    void regionServesDynamoDbOnLoopbackAndStopsOnClose() {
        DynamoDbLocalRegion region = DynamoDbLocalRegion.start("eu-central-1");
        try (region; DynamoDbClient ddb = region.newClient()) {
            System.out.printf("single region started in %d ms at %s%n", region.startupTime().toMillis(),
                    region.endpoint());
            assertThat(region.id()).isEqualTo("eu-central-1");
            assertThat(region.endpoint().toString()).isEqualTo("http://127.0.0.1:" + region.port());
            ddb.createTable(b -> b.tableName("single")
                    .keySchema(k -> k.attributeName("pk").keyType(KeyType.HASH))
                    .attributeDefinitions(a -> a.attributeName("pk").attributeType(ScalarAttributeType.S))
                    .billingMode(BillingMode.PAY_PER_REQUEST));
            ddb.putItem(b -> b.tableName("single").item(Map.of("pk", AttributeValue.fromS("k"),
                    "v", AttributeValue.fromN("1"))));
            // The shared client sees what another client wrote: -sharedDb, whatever the credentials.
            assertThat(region.client().getItem(b -> b.tableName("single")
                    .key(Map.of("pk", AttributeValue.fromS("k")))).item()).containsEntry("v", AttributeValue.fromN("1"));
        }
        assertThatThrownBy(region::client).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        region.close(); // idempotent
    }

    @Test
    void laterRegionsStartInMilliseconds() {
        List<DynamoDbLocalRegion> started = new ArrayList<>();
        try {
            for (String id : List.of("warm-up", "r1", "r2", "r3")) {
                started.add(DynamoDbLocalRegion.start(id));
            }
            started.forEach(r -> System.out.printf("region %s started in %d ms%n", r.id(), r.startupTime().toMillis()));
            // The first server in a JVM pays for loading DynamoDB Local's classes (about a second on 2 cores); the
            // warm-up region may be that one. The later ones only create a server: well under a second when the
            // machine is quiet; the bound is a sanity check that leaves room for a busy one.
            assertThat(started.subList(1, started.size()))
                    .allSatisfy(r -> assertThat(r.startupTime()).isLessThan(Duration.ofSeconds(10)));
            assertThat(started).extracting(DynamoDbLocalRegion::port).doesNotHaveDuplicates();
        } finally {
            started.forEach(DynamoDbLocalRegion::close);
        }
    }

    @Test
    void blankRegionIdIsRefused() {
        assertThatThrownBy(() -> DynamoDbLocalRegion.start(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("blank");
    }

    @Test
    void nativeLibraryIsExtractedFromTheTestkitJarWhenThePropertyIsUnset() throws Exception {
        // The build bundles the libraries into target/classes, as it does into the jar.
        Path dir = Sqlite4JavaNatives.locateAndCopy();
        assertThat(Sqlite4JavaNatives.libraryFileNames()).isNotEmpty()
                .allSatisfy(name -> assertThat(Files.size(dir.resolve(name))).isGreaterThan(100_000));
        assertThat(dir).isNotEqualTo(Path.of(System.getProperty(Sqlite4JavaNatives.LIBRARY_PATH_PROPERTY)));
    }

    @Test
    void nativeLibraryIsFoundInTheLocalMavenRepository() throws Exception {
        List<String> looked = new ArrayList<>();
        Path dir = Sqlite4JavaNatives.copyFromMavenRepository(Sqlite4JavaNatives.libraryFileNames(), looked);
        assertThat(dir).as("looked in %s", looked).isNotNull();
        assertThat(Sqlite4JavaNatives.libraryFileNames())
                .allSatisfy(name -> assertThat(dir.resolve(name)).isRegularFile());
        assertThat(Sqlite4JavaNatives.version()).isEqualTo("1.0.392");
    }

    @Test
    void aPropertyNamingNoFolderIsReported() {
        String before = System.getProperty(Sqlite4JavaNatives.LIBRARY_PATH_PROPERTY);
        try {
            System.setProperty(Sqlite4JavaNatives.LIBRARY_PATH_PROPERTY, "/nonexistent/latitude-native-libs");
            assertThatThrownBy(Sqlite4JavaNatives::ensureConfigured).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("sqlite4java.library.path")
                    .hasMessageContaining("not a folder");
        } finally {
            System.setProperty(Sqlite4JavaNatives.LIBRARY_PATH_PROPERTY, before);
        }
    }

    @Test
    void lagModels() {
        Duration ms100 = Duration.ofMillis(100);
        assertThat(ReplicationLag.none().lag("a", "b")).isZero();
        assertThat(ReplicationLag.fixed(ms100).lag("a", "b")).isEqualTo(ms100);

        ReplicationLag j1 = ReplicationLag.jittered(ms100, Duration.ofMillis(50), 42);
        ReplicationLag j2 = ReplicationLag.jittered(ms100, Duration.ofMillis(50), 42);
        List<Duration> first = new ArrayList<>();
        List<Duration> second = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            first.add(j1.lag("a", "b"));
            second.add(j2.lag("a", "b"));
        }
        assertThat(first).isEqualTo(second).allSatisfy(d -> assertThat(d).isBetween(ms100, Duration.ofMillis(150)));
        assertThat(first.stream().distinct().count()).isGreaterThan(10);

        ReplicationLag.PerPair pairs = ReplicationLag.perPair(ReplicationLag.fixed(ms100))
                .with("a", "b", Duration.ofMillis(300))
                .between("b", "c", Duration.ofMillis(20));
        assertThat(pairs.lag("a", "b")).isEqualTo(Duration.ofMillis(300));
        assertThat(pairs.lag("b", "a")).isEqualTo(ms100);
        assertThat(pairs.lag("b", "c")).isEqualTo(Duration.ofMillis(20));
        assertThat(pairs.lag("c", "b")).isEqualTo(Duration.ofMillis(20));

        assertThatThrownBy(() -> ReplicationLag.fixed(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("zero or more");
        assertThatThrownBy(() -> pairs.with("a", "a", ms100)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void settingsValidation() {
        ReplicationSettings d = ReplicationSettings.defaults();
        assertThat(d.timestampAttribute()).isEqualTo("_lat_ts");
        assertThat(d.originAttribute()).isEqualTo("_lat_origin");
        assertThat(d.pollInterval()).isEqualTo(Duration.ofMillis(5));
        assertThatThrownBy(() -> ReplicationSettings.builder().timestampAttribute("x").originAttribute("x").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("different names");
        assertThatThrownBy(() -> ReplicationSettings.builder().pollInterval(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pollInterval");
        assertThatThrownBy(() -> DynamoDbLocalRegions.start("only-one"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least two");
        assertThatThrownBy(() -> DynamoDbLocalRegions.start("x", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("distinct");
    }
}
