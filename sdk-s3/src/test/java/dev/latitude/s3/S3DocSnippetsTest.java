package dev.latitude.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.DataPolicies;
import dev.latitude.DataPolicy;
import dev.latitude.RegionSpec;
import dev.latitude.Session;
import dev.latitude.Topology;
import dev.latitude.WriteMode;
import dev.latitude.testkit.S3Regions;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;

/**
 * The code shown in the README's S3 section and in {@code docs/S3.md}, compiled and run here so the docs stay true.
 */
class S3DocSnippetsTest {
    private static final Topology TOPOLOGY = Topology.builder()
            .region(RegionSpec.builder("us-east-1").writer().jurisdiction("US").build())
            .region(RegionSpec.builder("eu-west-1").jurisdiction("EU").build())
            .localRegion("eu-west-1").build();

    private String shown;

    private void show(String value) {
        shown = value;
    }

    @Test
    void buildingTheClient() {
        Topology topology = TOPOLOGY;
        AwsCredentialsProvider credentials = S3Regions.credentials();
        // snippet: s3-client
        MultiRegionS3Client s3 = MultiRegionS3Client.builder() // an S3Client
                .topology(topology)                      // regions, roles, jurisdictions, the local region
                .bucket("photos", Map.of("us-east-1", "photos-use1", "eu-west-1", "photos-euw1"))
                .bucket("invoices", Map.of("us-east-1", "invoices-use1", "eu-west-1", "invoices-euw1"))
                .dataPolicies(DataPolicies.builder()  // by logical bucket; photos: one writer (us-east-1)
                        .exact("invoices", DataPolicy.builder().writeMode(WriteMode.MULTI_WRITER).build())
                        .build())
                .buildClients(b -> b.credentialsProvider(credentials)) // Latitude makes one S3Client per region
                .build();
        // end snippet
        assertThat(s3.regionClient("eu-west-1").serviceClientConfiguration().region()).isEqualTo(Region.EU_WEST_1);
        s3.close();
    }

    @Test
    void readingTheSessionsOwnWrite() {
        try (S3Regions lab = S3Regions.start("us-east-1", "eu-west-1")) {
            lab.region("us-east-1").createBucket("photos-use1");
            lab.region("eu-west-1").createBucket("photos-euw1");
            try (MultiRegionS3Client s3 = MultiRegionS3Client.builder().topology(TOPOLOGY)
                    .bucket("photos", Map.of("us-east-1", "photos-use1", "eu-west-1", "photos-euw1"))
                    .regionClients(region -> S3Regions.clientBuilder(lab.region(region)).build())
                    .build()) {
                // snippet: s3-session
                Session session = Session.create(s3.latitude().watermarkBounds());
                try (Scope ignored = session.storeIn(Context.current()).makeCurrent()) {
                    s3.putObject(b -> b.bucket("photos").key("cat.txt"), RequestBody.fromString("meow"));
                    // eu-west-1 has no copy yet: the read is checked against the session and sent to us-east-1
                    String cat = s3.getObjectAsBytes(b -> b.bucket("photos").key("cat.txt")).asUtf8String();
                    show(cat);
                }
                // end snippet
                assertThat(shown).isEqualTo("meow");
            }
        }
    }
}
