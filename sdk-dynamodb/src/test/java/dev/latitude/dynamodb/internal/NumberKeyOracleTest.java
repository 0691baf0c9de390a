package dev.latitude.dynamodb.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.latitude.dynamodb.UnroutableRequestException;
import dev.latitude.testkit.DynamoDbLocalRegion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * Holds {@link ItemKeys}' number checks against DynamoDB Local 3.1.0: for a sample of spellings at and around
 * DynamoDB's limits (precision, smallest and largest magnitude, exponents past an int, syntax), Latitude refuses
 * exactly the numbers DynamoDB Local refuses, and normalizes the others to the very text DynamoDB Local stores.
 */
class NumberKeyOracleTest {
    private static final String TABLE = "numbers";
    private static final String Z40 = "0".repeat(40);
    private static final List<String> SAMPLE = List.of(
            "1", "+1", "-1", ".5", "5.", "-.5", "+.5", "1e5", "1E5", "1E+5", "1e-5", "\u0661\u0662", "0", "-0", "+0",
            "0.0", "00000", "-0E5", "0E+200", "0E-999999999", "0E+2147483647",
            " 42", "42 ", "\t42", "0x10", "NaN", "Infinity", "1_000", "", "-", "+", ".", "e5", "1e", "1e+", "--1",
            "1.2.3", "0E+2147483648", "1E-2147483648",
            "1E-130", "-1E-130", "10E-131", "0.1E-129", "1E-131", "-1E-131", "0.1E-130",
            "9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
            "1E+125", "1E+126", "1e+00126", "99999999999999999999999999999999999999E+88",
            "99999999999999999999999999999999999999E+89", "12345678901234567890123456789012345678E-167",
            "12345678901234567890123456789012345678E-168",
            "12345678901234567890123456789012345678", "123456789012345678901234567890123456789",
            "1234567890123456789012345678901234567.8", "1234567890123456789012345678901234567.89",
            "1" + Z40, "1" + Z40 + "1", "0." + Z40 + "1", "1." + Z40, "0".repeat(45) + "1",
            "1E0000000000000000000000005", "1E+999999999", "1E+2147483647", "1E+2147483648");

    private static DynamoDbLocalRegion region;
    private static DynamoDbClient ddb;

    @BeforeAll
    static void start() {
        region = DynamoDbLocalRegion.start("oracle-1");
        ddb = region.newClient();
        ddb.createTable(b -> b.tableName(TABLE)
                .keySchema(k -> k.attributeName("pk").keyType(KeyType.HASH))
                .attributeDefinitions(a -> a.attributeName("pk").attributeType(ScalarAttributeType.N))
                .billingMode(BillingMode.PAY_PER_REQUEST));
    }

    @AfterAll
    static void stop() {
        if (ddb != null) {
            ddb.close();
        }
        if (region != null) {
            region.close();
        }
    }

    /** What DynamoDB Local stores for {@code n} as a key, or {@code null} if it refuses it. */
    private static String stored(String n) {
        Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromN(n));
        try {
            ddb.putItem(b -> b.tableName(TABLE).item(key));
        } catch (DynamoDbException e) {
            assertThat(e.statusCode()).as(n).isEqualTo(400);
            return null;
        }
        Map<String, AttributeValue> item = ddb.getItem(b -> b.tableName(TABLE).key(key)).item();
        ddb.deleteItem(b -> b.tableName(TABLE).key(key));
        return item.get("pk").n();
    }

    @Test
    void latitudeRefusesWhatDynamoDbLocalRefusesAndNormalizesTheRestAsItStoresThem() {
        List<String> disagreements = new ArrayList<>();
        int refused = 0;
        for (String n : SAMPLE) {
            String oracle = stored(n);
            Throwable refusal = catchThrowable(() -> ItemKeys.canonicalNumber("pk", n, "PutItem"));
            String ours = refusal == null ? ItemKeys.canonicalNumber("pk", n, "PutItem") : null;
            if (refusal != null) {
                refused++;
                assertThat(refusal).as(n).isInstanceOf(UnroutableRequestException.class);
            }
            if (oracle == null ? ours != null : !oracle.equals(ours)) {
                disagreements.add("'" + n + "': DynamoDB Local " + oracle + ", Latitude " + ours);
            }
        }
        assertThat(disagreements).isEmpty();
        // The sample has both sides of every limit.
        assertThat(refused).isBetween(20, SAMPLE.size() - 20);
    }
}
