package dev.latitude.bomcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.latitude.testkit.S3Regions;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The testkit's S3 lab runs on the class path a user's project gets from the BOM: S3Proxy needs newer Jackson
 * annotations than DynamoDB Local brings, and only the BOM can give users the right one.
 */
class TestkitRunsTest {
    @Test
    void theS3LabServesOnAUsersClassPath() {
        try (S3Regions lab = S3Regions.start("us-east-1", "eu-west-1")) {
            S3Regions.Region region = lab.region("us-east-1");
            region.createBucket("check");
            S3Client client = region.client();
            client.putObject(p -> p.bucket("check").key("k"), RequestBody.fromString("v"));
            assertEquals("v", client.getObjectAsBytes(g -> g.bucket("check").key("k")).asUtf8String());
        }
    }
}
