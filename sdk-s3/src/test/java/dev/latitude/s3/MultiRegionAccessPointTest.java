package dev.latitude.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.LatitudeConfigException;
import org.junit.jupiter.api.Test;

class MultiRegionAccessPointTest {
    private static final String ARN = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap";

    @Test
    void build_keepsTheArnAndBuckets_withFailoverOffByDefault() {
        MultiRegionAccessPoint mrap = MultiRegionAccessPoint.builder().arn(ARN)
                .bucket("us-east-1", "orders-use1").bucket("eu-west-1", "orders-euw1").build();
        assertThat(mrap.arn()).isEqualTo(ARN);
        assertThat(mrap.accountId()).isEqualTo("123456789012");
        assertThat(mrap.alias()).isEqualTo("mfzwi23gnjvgw.mrap");
        assertThat(mrap.regions()).containsExactly("us-east-1", "eu-west-1");
        assertThat(mrap.bucket("eu-west-1")).isEqualTo("orders-euw1");
        assertThat(mrap.routeDialFailover()).isFalse();
        assertThat(mrap.dryRun()).isFalse();
        assertThat(mrap.toBuilder().build()).isEqualTo(mrap);
    }

    @Test
    void arn_isChecked_namingTheSetting() {
        for (String bad : new String[] {null, "", "arn:aws:s3:us-east-1:123456789012:accesspoint/mfzwi23gnjvgw.mrap",
                "arn:aws:s3::1234:accesspoint/mfzwi23gnjvgw.mrap", "arn:aws:s3::123456789012:accesspoint/orders",
                "arn:aws:s3:::my-bucket", "mfzwi23gnjvgw.mrap"}) {
            assertThatThrownBy(() -> MultiRegionAccessPoint.builder().arn(bad), String.valueOf(bad))
                    .isInstanceOfSatisfying(LatitudeConfigException.class,
                            e -> assertThat(e.setting()).isEqualTo("mrap.arn"));
        }
        assertThatThrownBy(() -> MultiRegionAccessPoint.builder().arn(
                "arn:aws:s3:us-east-1:123456789012:accesspoint/mfzwi23gnjvgw.mrap"))
                .hasMessageContaining("global");
    }

    @Test
    void build_refusesMissingOrContradictorySettings() {
        assertThatThrownBy(() -> MultiRegionAccessPoint.builder().bucket("us-east-1", "orders").build())
                .isInstanceOfSatisfying(LatitudeConfigException.class,
                        e -> assertThat(e.setting()).isEqualTo("mrap.arn"));
        assertThatThrownBy(() -> MultiRegionAccessPoint.builder().arn(ARN).build())
                .isInstanceOfSatisfying(LatitudeConfigException.class,
                        e -> assertThat(e.setting()).isEqualTo("mrap.buckets"));
        assertThatThrownBy(() -> MultiRegionAccessPoint.builder().arn(ARN).bucket("us-east-1", "Bad_Bucket"))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("Bad_Bucket");
        assertThatThrownBy(() -> MultiRegionAccessPoint.builder().arn(ARN).bucket("us-east-1", "aaa")
                .bucket("us-east-1", "bbb")).isInstanceOf(LatitudeConfigException.class);
        assertThatThrownBy(() -> MultiRegionAccessPoint.builder().arn(ARN).bucket("us-east-1", "aaa")
                .routeDialFailover(true).build())
                .isInstanceOfSatisfying(LatitudeConfigException.class,
                        e -> assertThat(e.setting()).isEqualTo("mrap.routeDialFailover"));
        assertThatThrownBy(() -> MultiRegionAccessPoint.builder().arn(ARN).bucket("us-east-1", "aaa").dryRun(true)
                .build())
                .isInstanceOfSatisfying(LatitudeConfigException.class,
                        e -> assertThat(e.setting()).isEqualTo("mrap.dryRun"));
    }
}
